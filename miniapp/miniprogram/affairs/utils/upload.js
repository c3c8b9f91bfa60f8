// Pick a photo (wx.chooseMedia) or a PDF from a chat (wx.chooseMessageFile) and upload it
// as the raw body of POST /api/v1/uploads; the server checks the type by content.
const TYPES = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', pdf: 'application/pdf' }

function choose() {
  return new Promise((resolve) => {
    wx.showActionSheet({
      itemList: ['拍照或从相册选择', '从聊天记录选择 PDF'],
      success: ({ tapIndex }) => {
        if (tapIndex === 0) {
          wx.chooseMedia({ count: 1, mediaType: ['image'], sizeType: ['compressed'],
            success: (r) => resolve(r.tempFiles[0].tempFilePath), fail: () => resolve(null) })
        } else {
          wx.chooseMessageFile({ count: 1, type: 'file', extension: ['pdf'],
            success: (r) => resolve(r.tempFiles[0].path), fail: () => resolve(null) })
        }
      },
      fail: () => resolve(null),
    })
  })
}

async function uploadFile(request) {
  const path = await choose()
  if (!path) return null
  const ext = path.split('.').pop().toLowerCase()
  const data = wx.getFileSystemManager().readFileSync(path)
  const name = `upload.${ext}`
  return request(`/api/v1/uploads?filename=${encodeURIComponent(name)}`, {
    method: 'POST', data, header: { 'content-type': TYPES[ext] || 'application/octet-stream' },
  })
}

module.exports = { uploadFile }
