// 用证记录 (every use of a certificate: who, what for, when) and 用码记录 (every scan of the
// service code: where, by whom, online or offline).
const { api, errorText } = require('../../utils/api')
const { fmtTime } = require('../../utils/format')

const ACTIONS = { shared: '亮证', viewed: '核验查看', image: '查看照面', disclosed: '经授权调用', revealed: '查看完整信息' }

Page({
  data: { tab: 'usage', usage: [], scans: [], loading: true, error: '', elder: false },
  onLoad({ tab }) { if (tab) this.setData({ tab }) },
  onShow() {
    this.setData({ elder: getApp().globalData.elder })
    return this.load()
  },
  async load() {
    this.setData({ loading: !this.data.usage.length && !this.data.scans.length, error: '' })
    try {
      const [u, s] = await Promise.all([api.get('/api/v1/wallet/usage'), api.get('/api/v1/codes/history')])
      this.setData({
        usage: u.items.map((x) => ({ title: `${(x.by && x.by.name) || '核验方'} ${ACTIONS[x.action] || '使用'}「${x.type_name || '证照'}」`,
          label: [x.purpose, fmtTime(x.at)].filter(Boolean).join(' · ') })),
        scans: s.items.map((x) => ({ title: x.by, label: `${x.location || ''} · ${fmtTime(x.at)}`, offline: x.mode === 'offline' })),
      })
    } catch (e) { this.setData({ error: errorText(e) }) } finally { this.setData({ loading: false }) }
  },
  switch(e) { this.setData({ tab: e.currentTarget.dataset.tab }) },
})
