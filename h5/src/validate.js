// Checks done before anything is sent, with the sentence shown next to the field.
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const ID_CHECK = '10X98765432'

export function idNumberProblem(v) {
  const s = String(v || '').trim().toUpperCase()
  if (!s) return '请输入证件号码'
  if (!/^\d{17}[\dX]$/.test(s)) return '证件号码应为 18 位，最后一位可以是数字或 X'
  const sum = ID_WEIGHTS.reduce((acc, w, i) => acc + w * Number(s[i]), 0)
  if (ID_CHECK[sum % 11] !== s[17]) return '证件号码有误，请核对后重新输入（最后一位校验码不对）'
  return ''
}

export function nameProblem(v) {
  const s = String(v || '').trim()
  if (!s) return '请输入姓名'
  if (!/^[\u4e00-\u9fa5A-Za-z·•]{2,30}$/.test(s)) return '姓名应为 2-30 个汉字或字母（可含间隔号·）'
  return ''
}

export const isDateField = (key, p) => p.format === 'date' || /(_date|_on|_since|date|since)$/.test(key)
  || /日期|时间起/.test(p.title || '')

// A JSON-Schema property's value: '' when fine, else what to do.
export function fieldProblem(p, v, required, isDate = false) {
  const empty = v === undefined || v === null || v === ''
  if (empty) return required ? `请填写${p.title || '此项'}` : ''
  if (p.type === 'number' || p.type === 'integer') {
    if (typeof v !== 'number' || Number.isNaN(v)) return '请输入数字'
    if (p.type === 'integer' && !Number.isInteger(v)) return '请输入整数'
    if (p.minimum !== undefined && v < p.minimum) return `不能小于 ${p.minimum}`
    if (p.maximum !== undefined && v > p.maximum) return `不能大于 ${p.maximum}`
    return ''
  }
  const s = String(v)
  if (p.minLength && s.length < p.minLength) return `至少填写 ${p.minLength} 个字`
  if (p.maxLength && s.length > p.maxLength) return `最多 ${p.maxLength} 个字`
  if (p.enum && !p.enum.includes(v)) return '请从选项中选择'
  if (isDate && !/^\d{4}-\d{2}-\d{2}$/.test(s)) return '请选择日期，或按 2025-06-01 的格式填写'
  if (p.pattern && !new RegExp(p.pattern).test(s)) return `${p.title || '此项'}的格式不对，请核对`
  return ''
}
