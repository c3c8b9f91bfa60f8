// One way for every screen to load its data: loading, error and reload, so no screen is
// ever blank while it waits or after a failure.
import { onMounted, ref } from 'vue'

export function useLoad(fn, { immediate = true } = {}) {
  const data = ref(null)
  const loading = ref(immediate)
  const error = ref(null)
  async function reload() {
    loading.value = true
    error.value = null
    try {
      data.value = await fn()
    } catch (e) {
      error.value = e
    } finally {
      loading.value = false
    }
    return data.value
  }
  if (immediate) onMounted(reload)
  return { data, loading, error, reload }
}
