// Side panel of the viewer: the PDF's outline (GET …/outline.json) and the layer's bookmarks
// (GET/POST/DELETE …/bookmarks, pspdfkit/bookmark records). An entry jumps to its page; with
// the write permission the current page can be bookmarked and a bookmark removed.
const $ = (id) => document.getElementById(id)

export function setupPanel({ transport, pages, announce, error }) {
  const toggle = $('panel-toggle')
  const panel = $('side-panel')
  toggle.hidden = false
  const jump = (pageIndex) => pages[pageIndex]?.el.scrollIntoView({ block: 'start' })

  const item = (title, pageIndex) => {
    const b = document.createElement('button')
    b.type = 'button'
    b.className = 'panel-link'
    b.textContent = title || `Page ${pageIndex + 1}`
    if (pageIndex === undefined) b.disabled = true
    else b.addEventListener('click', () => jump(pageIndex))
    return b
  }

  const tree = (elements) => {
    const ul = document.createElement('ul')
    for (const e of elements) {
      const li = document.createElement('li')
      const page = e.action && e.action.type === 'goTo' ? e.action.pageIndex : undefined
      if (e.action && e.action.type === 'uri') {
        const a = document.createElement('a')
        a.href = e.action.uri
        a.rel = 'noopener noreferrer'
        a.target = '_blank'
        a.className = 'panel-link'
        a.textContent = e.title
        li.append(a)
      } else li.append(item(e.title, page))
      if (e.children && e.children.length) li.append(tree(e.children))
      ul.append(li)
    }
    return ul
  }

  async function loadOutline() {
    try {
      const { outline } = (await transport.json('/outline.json')).data
      $('outline-list').replaceChildren(outline.length ? tree(outline) : Object.assign(document.createElement('p'), { className: 'muted', textContent: 'This document has no outline.' }))
    } catch (e) {
      $('outline-list').textContent = e.message
    }
  }

  /** The page whose box is nearest the top of the viewer. */
  const currentPage = () => {
    const top = $('viewer').getBoundingClientRect().top
    let best = 0, bestDist = Infinity
    for (const p of pages) {
      const d = Math.abs(p.el.getBoundingClientRect().top - top)
      if (d < bestDist) { best = p.index; bestDist = d }
    }
    return best
  }

  async function loadBookmarks() {
    let list
    try {
      list = (await transport.json('/bookmarks')).data.bookmarks
    } catch (e) {
      $('bookmark-list').textContent = e.message
      return
    }
    const ul = document.createElement('ul')
    for (const b of list) {
      const li = document.createElement('li')
      const page = b.content.action && b.content.action.type === 'goTo' ? b.content.action.pageIndex : undefined
      li.append(item(b.content.name, page))
      if (transport.canWrite) {
        const del = document.createElement('button')
        del.type = 'button'
        del.className = 'icon-btn bookmark-delete'
        del.textContent = '×'
        del.setAttribute('aria-label', `Remove bookmark ${b.content.name || ''}`)
        del.addEventListener('click', async () => {
          try {
            await transport.request(`/bookmarks/${encodeURIComponent(b.id)}`, { method: 'DELETE' })
            announce('Bookmark removed')
            loadBookmarks()
          } catch (e) { error(e) }
        })
        li.append(del)
      }
      ul.append(li)
    }
    $('bookmark-list').replaceChildren(list.length ? ul : Object.assign(document.createElement('p'), { className: 'muted', textContent: 'No bookmarks yet.' }))
  }

  const add = $('bookmark-add')
  add.hidden = !transport.canWrite
  add.addEventListener('click', async () => {
    const pageIndex = currentPage()
    try {
      await transport.request('/bookmarks', { method: 'POST', json: { content: { type: 'pspdfkit/bookmark', v: 1, name: `Page ${pageIndex + 1}`, action: { type: 'goTo', pageIndex } } } })
      announce(`Bookmarked page ${pageIndex + 1}`)
      loadBookmarks()
    } catch (e) { error(e) }
  })

  let loaded = false
  toggle.addEventListener('click', () => {
    const open = panel.hidden
    panel.hidden = !open
    toggle.setAttribute('aria-expanded', String(open))
    document.body.classList.toggle('with-panel', open)
    if (open && !loaded) {
      loaded = true
      loadOutline()
      loadBookmarks()
    }
  })
}
