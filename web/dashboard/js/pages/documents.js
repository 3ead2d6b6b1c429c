// Documents: search and cursor paging (GET /documents), upload with progress (multipart over
// XHR), delete with confirmation, open in the viewer (with the dashboard session).
import { api, uploadDocument } from '../api.js'
import { confirmDialog, errorCard, field, formatBytes, formatDate, h, icon, pageHead, table, toast } from '../ui.js'

export async function documentsPage(root) {
  const state = { title: '', cursor: undefined, pageSize: 20, orderBy: 'created_at', direction: 'desc' }
  const count = h('p', { class: 'muted', id: 'document-count' }, '')
  const head = pageHead('Documents', null)
  head.firstChild.append(count)

  // Upload
  const fileInput = h('input', { type: 'file', name: 'file', accept: 'application/pdf,.pdf', id: 'upload-file', required: true, 'aria-label': 'PDF file' })
  const titleInput = h('input', { type: 'text', name: 'title', id: 'upload-title', placeholder: 'Defaults to the file name', maxlength: 1024, autocomplete: 'off' })
  const idInput = h('input', { type: 'text', name: 'document_id', id: 'upload-id', placeholder: 'Generated when empty', pattern: '[A-Za-z0-9_-]{1,128}', autocomplete: 'off' })
  const progress = h('progress', { max: 100, value: 0, id: 'upload-progress', hidden: true, 'aria-label': 'Upload progress' })
  const status = h('div', { class: 'upload-status', id: 'upload-status', 'aria-live': 'polite' })
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'upload-submit' }, icon(['M12 16V4', 'M7 9l5-5 5 5', 'M4 20h16']), 'Upload')
  const drop = h('div', { class: 'dropzone' }, h('div', {}, 'Drop a PDF here, or choose one:'), fileInput)
  const form = h('form', { class: 'card', id: 'upload-form', 'aria-labelledby': 'upload-heading' },
    h('div', { class: 'card-head' }, h('h2', { id: 'upload-heading' }, 'Upload a PDF')),
    drop,
    h('div', { class: 'row' }, field('Title', titleInput, 'optional'), field('Document id', idInput, 'optional'), h('div', {}, submit)),
    h('div', { class: 'field' }, progress, status))
  for (const ev of ['dragenter', 'dragover']) drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add('dragging') })
  for (const ev of ['dragleave', 'drop']) drop.addEventListener(ev, () => drop.classList.remove('dragging'))
  drop.addEventListener('drop', (e) => {
    e.preventDefault()
    if (e.dataTransfer.files.length) fileInput.files = e.dataTransfer.files
  })
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    const file = fileInput.files[0]
    if (!file) return fileInput.focus()
    submit.disabled = true
    progress.hidden = false
    progress.value = 0
    status.textContent = `Uploading ${file.name} (${formatBytes(file.size)})…`
    try {
      const doc = await uploadDocument(file, { title: titleInput.value.trim(), document_id: idInput.value.trim() }, (f) => {
        progress.value = Math.round(f * 100)
        if (f >= 1) status.textContent = 'Checking the PDF…'
      })
      progress.value = 100
      status.textContent = `Uploaded “${doc.title || doc.document_id}”: ${doc.pageCount ?? '?'} page(s).`
      toast('Document uploaded')
      form.reset()
      state.cursor = undefined
      await load()
    } catch (err) {
      progress.hidden = true
      status.textContent = ''
      toast(err.message, 'error')
    } finally {
      submit.disabled = false
    }
  })

  // Search and list
  const search = h('input', { type: 'search', id: 'document-search', placeholder: 'Search by title', autocomplete: 'off' })
  const order = h('select', { id: 'document-order' },
    h('option', { value: 'created_at:desc' }, 'Newest first'), h('option', { value: 'created_at:asc' }, 'Oldest first'),
    h('option', { value: 'title:asc' }, 'Title A–Z'), h('option', { value: 'title:desc' }, 'Title Z–A'))
  const size = h('select', { id: 'document-page-size' }, [10, 20, 50, 100].map((n) => h('option', { value: n, selected: n === state.pageSize }, String(n))))
  let timer
  search.addEventListener('input', () => {
    clearTimeout(timer)
    timer = setTimeout(() => { state.title = search.value.trim(); state.cursor = undefined; load() }, 250)
  })
  order.addEventListener('change', () => { [state.orderBy, state.direction] = order.value.split(':'); state.cursor = undefined; load() })
  size.addEventListener('change', () => { state.pageSize = Number(size.value); state.cursor = undefined; load() })
  const list = h('div', { class: 'card card-flush', id: 'document-list' })
  const toolbar = h('div', { class: 'card' }, h('div', { class: 'row' },
    field('Search', search), field('Order', order), field('Per page', size)))

  root.append(head, form, toolbar, list)

  async function remove(doc) {
    const ok = await confirmDialog({ title: 'Delete this document?', text: `“${doc.title || doc.id}” and its annotations will be deleted. This cannot be undone.` })
    if (!ok) return
    try {
      await api(`/documents/${encodeURIComponent(doc.id)}`, { method: 'DELETE' })
      toast('Document deleted')
      await load()
    } catch (e) {
      toast(e.message, 'error')
    }
  }

  async function load() {
    list.setAttribute('aria-busy', 'true')
    let page
    try {
      page = await api('/documents', { query: { page_size: state.pageSize, cursor: state.cursor, title: state.title, order_by: state.orderBy, order_direction: state.direction } })
    } catch (e) {
      list.replaceChildren(errorCard(e))
      return
    } finally {
      list.removeAttribute('aria-busy')
    }
    count.textContent = `${page.document_count} document${page.document_count === 1 ? '' : 's'}${state.title ? ' matching “' + state.title + '”' : ''}`
    if (page.data.length === 0) {
      list.replaceChildren(h('div', { class: 'empty' }, state.title ? 'No document matches this search.' : 'No documents yet. Upload a PDF to get started.'))
      return
    }
    const columns = [
      { label: 'Title', cell: (d) => h('div', {}, h('div', { class: 'doc-title' }, d.title || 'Untitled'), h('div', { class: 'muted mono' }, d.id)) },
      { label: 'Size', num: true, cell: (d) => formatBytes(d.byteSize) },
      { label: 'Created', cell: (d) => formatDate(d.createdAt) },
      { label: 'Actions', cell: (d) => h('div', { class: 'actions' },
        h('a', { class: 'btn btn-small btn-primary', href: `/viewer#document=${encodeURIComponent(d.id)}&session=dashboard`, target: '_blank', rel: 'noopener', 'aria-label': `Open ${d.title || d.id} in the viewer`, dataset: { action: 'open' } }, 'Open'),
        h('a', { class: 'btn btn-small', href: `/dashboard/api/documents/${encodeURIComponent(d.id)}/pdf`, download: '', 'aria-label': `Download ${d.title || d.id}` }, 'Download'),
        h('button', { type: 'button', class: 'btn btn-small btn-danger', 'aria-label': `Delete ${d.title || d.id}`, dataset: { action: 'delete' }, onclick: () => remove(d) }, 'Delete')) },
    ]
    const t = table(columns, page.data, 'Documents')
    for (const [i, tr] of [...t.querySelectorAll('tbody tr')].entries()) tr.dataset.documentId = page.data[i].id
    const prev = h('button', { type: 'button', class: 'btn btn-small', disabled: !page.prev_cursor, onclick: () => { state.cursor = page.prev_cursor; load() } }, '← Previous')
    const next = h('button', { type: 'button', class: 'btn btn-small', disabled: !page.next_cursor, onclick: () => { state.cursor = page.next_cursor; load() } }, 'Next →')
    list.replaceChildren(t, h('div', { class: 'pager' }, h('span', {}, `${page.data.length} shown`), h('div', { class: 'actions' }, prev, next)))
  }

  await load()
}
