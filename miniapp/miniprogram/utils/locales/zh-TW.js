// 繁體中文: the same words as zh-CN.js (the same keys; written from it in Traditional characters,
// OpenCC s2tw). What the server sends stays as it is.
module.exports = {
  app: {
    title: '政務超級應用'
  },
  tab: [
    '服務碼',
    '卡包',
    '辦事',
    '我的'
  ],
  lang: {
    system: '跟隨系統',
    'zh-CN': '简体中文',
    'zh-TW': '繁體中文'
  },
  scopes: {
    matters: '辦事',
    certificates: '證照（查看與使用）',
    appointments: '預約與取號',
    tickets: '12345 訴求'
  },
  status: {
    valid: '有效',
    expiring: '即將到期',
    expired: '已過期',
    suspended: '已暫停',
    revoked: '已註銷',
    superseded: '已更新'
  },
  level: [
    '未實名',
    '已驗證手機號',
    '已實名認證',
    '已刷臉認證'
  ],
  api: {
    failed: '出錯了，請稍後重試',
    unavailable: '暫時辦不了，請稍後重試或撥打 12345 諮詢',
    network: '網絡連接失敗，請檢查網絡後重試',
    networkTitle: '網絡異常',
    switchedBack: '已切換回本人',
    revokedTitle: '已切換回本人',
    revokedText: '{name} 的代辦授權已撤銷或已到期，現在是您本人的身份。',
    revokedError: '{name} 的代辦授權已撤銷或已到期，已切換回您本人',
    ok: '知道了'
  },
  banner: {
    acting: '正在為 {name} 代辦',
    back: '切換回本人'
  },
  loadState: {
    loading: '正在加載…',
    retry: '重試',
    empty: '這裡還沒有內容'
  },
  code: {
    whose: '{name} 的服務碼',
    label: '我的服務碼',
    short: '短碼',
    tip: '{seconds} 秒後自動刷新 · 出示給窗口或自助終端掃描',
    making: '正在生成服務碼…'
  },
  consent: {
    window: '服務窗口',
    asks: '{name} 請求使用您的信息',
    purpose: '用途：{purpose}',
    reject: '全部拒絕',
    approve: '同意所選 {count} 項'
  },
  index: {
    realname: '完成實名認證後出示服務碼',
    pending: '待您授權（對方只會看到您同意的信息）',
    tip: '服務碼 60 秒自動更新，請勿截圖轉發。',
    acting: '正在為 {name} 代辦',
    actingCode: '服務碼是本人身份的憑證，只能由本人出示，代辦期間不顯示。',
    actingScopes: '可以代辦：{scopes}',
    back: '切換回本人',
    asked: '「{by}」請求使用您的信息',
    scanned: '您的服務碼被「{by}」掃描',
    progress: '辦件 {number}：{state}',
    window: '服務窗口',
    approved: '已同意',
    rejected: '已拒絕'
  },
  login: {
    intro: '一個身份辦遍政務服務。首次登錄即開戶；同一手機號在小程序與 H5 是同一個賬戶。',
    agree: '我已閱讀並同意',
    mustAgree: '請先閱讀並同意《用戶協議》和《隱私政策》',
    login: '微信一鍵登錄',
    failed: '微信登錄失敗，請重試',
    phoneWhy: '綁定手機號，用於接收辦件通知、與 H5 賬戶互通',
    bindPhone: '授權綁定微信手機號',
    skip: '暫不綁定',
    noPhone: '未授權手機號，可稍後在“我的”中綁定'
  },
  realname: {
    title: '實名認證（L2）',
    name: '姓名',
    namePlaceholder: '與證件一致',
    idNumber: '證件號碼',
    idPlaceholder: '18 位身份證件號碼',
    submit: '提交認證',
    note: '證件號碼加密保存，僅用於核驗身份和歸集您的電子證照。',
    done: '實名認證成功'
  },
  wallet: {
    mine: '我的電子證照',
    whose: '{name} 的證照',
    toMatters: '去辦事',
    empty: '卡包裡還沒有電子證照。發證機關簽發或辦事領證後，證照會自動放進來。'
  },
  matters: {
    search: '搜索事項，如 公積金、居住證',
    ask: '向 12345 諮詢',
    empty: '沒有找到相關事項，換個說法試試，或向 12345 諮詢',
    bundles: '一件事一次辦',
    bundle: '一件事',
    instant: '秒批',
    noVisit: '零跑動',
    applications: '我的辦件',
    halls: '到大廳辦事',
    hallsTitle: '辦事大廳',
    hallsLabel: '離您最近的大廳、開放時間、排隊人數；預約和線上取號',
    appointments: '我的預約',
    appointmentsLabel: '預約碼、改期、取消',
    hotline: '12345 政務服務便民熱線',
    report: '我要反映',
    reportLabel: '諮詢、求助、投訴、舉報、建議，限時辦理答覆',
    policies: '政策兌現',
    policiesTitle: '我可享受',
    policiesLabel: '免申即享、確認即享：按您的證照和資訊匹配補貼政策'
  },
  mine: {
    noRealname: '未實名',
    noPhone: '未綁定手機號',
    actingFor: '您正在為 TA 代辦',
    canDo: '可以代辦',
    enterprise: '當前代表企業辦事',
    elder: '適老化（大字）模式',
    language: '語言 · 语言',
    records: '我的記錄',
    whoseRecords: '{name} 的記錄',
    applications: '我的辦件',
    tickets: '12345 我的訴求',
    ticketsLabel: '諮詢、求助、投訴、舉報、建議',
    appointments: '我的預約',
    appointmentsLabel: '到大廳辦事的預約、預約碼',
    numbers: '我的排隊號',
    numbersLabel: '前面還有幾人，叫號時提醒',
    usage: '用證記錄 · 用碼記錄',
    usageLabel: '誰在何時查看、使用了您的證照和服務碼',
    activity: '賬戶動態',
    activityLabel: '對您數據的每一次操作，可校驗是否被改動',
    family: '家人與企業',
    proxies: '親友代辦',
    proxiesLabel: '授權家人代辦，或為家人、未成年子女代辦',
    pending: '{count} 個待接受',
    enterprises: '我的企業與經辦授權',
    account: '賬戶與安全',
    face: '人臉核驗',
    faceLabel: '部分事項（如駕駛證換證）需要刷臉認證',
    userAgreement: '用戶協議',
    privacy: '隱私政策',
    close: '註銷賬號',
    logout: '退出登錄'
  },
  payment: {
    title: '繳費',
    amount: '應繳金額',
    gross: '應收金額',
    waiver: '減免',
    items: '收費項目',
    due: '繳納時間',
    collector: '執收單位',
    paidAt: '支付時間',
    channel: '支付方式',
    pay: '微信支付 ¥{amount}',
    retry: '重試',
    refresh: '刷新支付結果',
    confirming: '支付中，正在確認支付結果…',
    cancelled: '已取消支付',
    failed: '支付未完成，請重試',
    slow: '暫未收到支付結果。如已付款，結果稍後會更新，請勿重複支付。',
    paid: '已繳費',
    receipt: '查看電子票據',
    receiptPending: '電子票據開具中，開具後放入卡包',
    receiptVoided: '電子票據已作廢（費用已退回）',
    waived: '已減免，無須繳費',
    closed: '繳費單已關閉，無須繳費',
    pending: '繳費單生成中，請稍候',
    states: {
      not_due: '審批通過後繳費',
      pending: '繳費單生成中',
      unpaid: '待繳費',
      paying: '支付中',
      paid: '已繳費',
      waived: '已減免',
      refunding: '退款中',
      refunded: '已退款',
      closed: '已關閉'
    },
    refundStates: {
      requested: '退款中',
      processing: '退款中',
      succeeded: '已退回',
      failed: '退款未成功'
    },
    dues: {
      submission: '提交申請時繳納',
      approval: '審批通過後繳納'
    }
  }
}
