import { createApp } from 'vue'
import { createRouter, createWebHistory } from 'vue-router'
import Vant from 'vant'
import 'vant/lib/index.css'
import App from './App.vue'
import Login from './views/Login.vue'
import Home from './views/Home.vue'
import Realname from './views/Realname.vue'
import { session } from './api.js'

const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/', component: Home, meta: { auth: true } },
    { path: '/login', component: Login },
    { path: '/realname', component: Realname, meta: { auth: true } },
  ],
})
router.beforeEach((to) => (to.meta.auth && !session.loggedIn() ? { path: '/login', query: { next: to.fullPath } } : true))

createApp(App).use(router).use(Vant).mount('#app')
