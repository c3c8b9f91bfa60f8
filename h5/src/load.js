// One way for every screen to load its data: loading, error and reload, so no screen is
// ever blank while it waits or after a failure.
import { onMounted, ref } from 'vue'

export function useLoad(fn, { immediate = true } = {}) {
  const data = ref(null)
  const loading = ref(immediate)
  const error = ref(null)
  let latest = 0
  async function reload() {
    const mine = ++latest // only the newest load speaks: an older one ending late is ignored
    loading.value = true
    error.value = null
    try {
      const result = await fn()
      if (mine === latest) data.value = result
    } catch (e) {
      if (mine === latest) error.value = e
    } finally {
      if (mine === latest) loading.value = false
    }
    return data.value
  }
  if (immediate) onMounted(reload)
  return { data, loading, error, reload }
}
