// 我要反映 (12345): the kind, a category from the catalog (only those that take that kind), a
// one-line title, what happened and where, photos; a 咨询 is answered from the knowledge base
// while it is typed. A 举报 may be anonymous: sent without the login, followed with a query
// code shown once. From a 差评 (?rating=<application id>) it is a 投诉 about that application,
// closed when the department's rectification is. Checked here before anything is sent; one
// Idempotency-Key per filled form, so a retry never files twice.
const { api, newIdempotencyKey, errorText, showError, askForNotifications, uploadFile } = require('../../utils/api')

const RATING = /^a[0-9a-f]{24}$/

Page({
  data: {
    loading: true, error: '', kinds: [], kind: 'help', kindHint: '', categories: [], categoryIndex: -1, category: null,
    title: '', content: '', address: '', contact: true, anonymous: false, uploads: [], suggestions: [], errors: {},
    busy: false, created: null, ratingId: '', elder: false,
  },
  onLoad({ rating }) {
    this.key = newIdempotencyKey()
    if (RATING.test(rating || '')) this.setData({ ratingId: rating, kind: 'complaint' })
    this.setData({ elder: getApp().globalData.elder })
    return this.load()
  },
  async load() {
    this.setData({ loading: true, error: '' })
    try {
      this.catalog = await api.get('/api/v1/tickets/catalog')
      this.setData({ kinds: this.catalog.kinds })
      this.pickKind({ currentTarget: { dataset: { kind: this.data.kind } } })
      if (this.data.ratingId) this.choose('gov-service')
    } catch (e) { this.setData({ error: errorText(e) }) } finally { this.setData({ loading: false }) }
  },
  pickKind(e) {
    const kind = e.currentTarget.dataset.kind
    const categories = this.catalog.categories.filter((c) => c.kinds.includes(kind))
      .map((c) => ({ code: c.code, label: `${c.group} · ${c.name}` }))
    const k = this.catalog.kinds.find((x) => x.code === kind)
    const kept = this.data.category && categories.find((c) => c.code === this.data.category.code)
    this.setData({ kind, categories, kindHint: k ? `${k.name}：一般在派单后 ${k.limit}内办理答复` : '',
      category: kept || null, categoryIndex: kept ? categories.indexOf(kept) : -1,
      anonymous: kind === 'report' ? this.data.anonymous : false, suggestions: kind === 'consult' ? this.data.suggestions : [] })
  },
  choose(code) {
    const i = this.data.categories.findIndex((c) => c.code === code)
    if (i >= 0) this.setData({ categoryIndex: i, category: this.data.categories[i], 'errors.category': '' })
  },
  onCategory(e) { this.choose(this.data.categories[Number(e.detail.value)].code) },
  onTitle(e) { this.setData({ title: e.detail, 'errors.title': '' }) },
  onContent(e) {
    this.setData({ content: e.detail, 'errors.content': '' })
    if (this.data.kind !== 'consult') return
    clearTimeout(this.timer)
    this.timer = setTimeout(() => this.suggest(), 400)
  },
  onAddress(e) { this.setData({ address: e.detail }) },
  onContact(e) { this.setData({ contact: e.detail }) },
  onAnonymous(e) { this.setData({ anonymous: e.detail, uploads: e.detail ? [] : this.data.uploads }) },
  async suggest() {
    const q = `${this.data.title} ${this.data.content}`.trim().slice(0, 100)
    if (q.length < 4) { this.setData({ suggestions: [] }); return }
    const r = await api.get(`/api/v1/tickets/knowledge?q=${encodeURIComponent(q)}`).catch(() => ({ items: [] }))
    this.setData({ suggestions: r.items })
  },
  async upload() {
    if (this.data.uploads.length >= 9) { wx.showToast({ title: '最多 9 个附件', icon: 'none' }); return }
    try {
      const up = await uploadFile()
      if (up) this.setData({ uploads: this.data.uploads.concat([{ id: up.id, name: `材料 ${this.data.uploads.length + 1}` }]) })
    } catch (err) { showError(err) }
  },
  remove(e) { this.setData({ uploads: this.data.uploads.filter((u) => u.id !== e.currentTarget.dataset.id) }) },
  check() {
    const errors = {}
    if (!this.data.category) errors.category = '请选择分类'
    if (this.data.title.trim().length < 2) errors.title = '请写一句话标题（至少 2 个字）'
    if (this.data.content.trim().length < 5) errors.content = '请具体描述（至少 5 个字）'
    this.setData({ errors })
    return !Object.keys(errors).length
  },
  async submit() {
    if (!this.check()) return
    const d = this.data
    const body = {
      kind: d.kind, category: d.category.code, title: d.title.trim(), content: d.content.trim(),
      location: d.address.trim() ? { address: d.address.trim() } : null, attachments: d.uploads.map((u) => u.id),
      anonymous: d.anonymous, contact_allowed: d.contact && !d.anonymous, related: d.ratingId ? { rating_id: d.ratingId } : null,
    }
    this.setData({ busy: true })
    if (!d.anonymous) await askForNotifications()
    try {
      const created = await api.create('/api/v1/tickets', body, this.key, { anonymous: d.anonymous })
      this.key = newIdempotencyKey()
      this.setData({ created })
    } catch (err) {
      const f = err.fields || {}
      this.setData({ errors: { category: f.category || '', title: f.title || '', content: f.content || '', kind: f.kind || '' } })
      showError(err)
    } finally { this.setData({ busy: false }) }
  },
  async resolve(e) {
    try {
      await api.post(`/api/v1/tickets/${this.data.created.id}/resolve`, { version: 1, answer_id: e.currentTarget.dataset.id })
      wx.showToast({ title: '已按知识库答复办结', icon: 'none' })
      wx.redirectTo({ url: `/hotline/detail/index?id=${this.data.created.id}` })
    } catch (err) { showError(err) }
  },
  toDetail() { wx.redirectTo({ url: `/hotline/detail/index?id=${this.data.created.id}` }) },
  copyCode() { wx.setClipboardData({ data: `${this.data.created.number} ${this.data.created.query_code}` }) },
})
