// 小程序运行配置。开发时指向本机 `make run` 启动的后端；发布前改为正式域名（须在微信公众平台
// “开发管理 → 服务器域名”中配置 request 合法域名）。
module.exports = {
  baseUrl: 'http://127.0.0.1:8000',
  // 订阅消息模板（办件进度通知），与后端 notifications.wechat_template_id 一致
  subscribeTemplateId: 'tpl-application-progress-dev',
}
