// The dashboard shell: session, hash routing between pages, sign-out.
import { loadSession, signOut } from './api.js'
import { errorCard, h } from './ui.js'
import { auditPage } from './pages/audit.js'
import { documentsPage } from './pages/documents.js'
import { jwtPage } from './pages/jwt.js'
import { nodesPage } from './pages/nodes.js'
import { revocationsPage } from './pages/revocations.js'
import { secretsPage } from './pages/secrets.js'

const PAGES = {
  documents: { title: 'Documents', render: documentsPage },
  secrets: { title: 'Secrets', render: secretsPage },
  revocations: { title: 'Revocations', render: revocationsPage },
  jwt: { title: 'JWT validator', render: jwtPage },
  audit: { title: 'Audit log', render: auditPage },
  nodes: { title: 'Nodes', render: nodesPage },
}

const main = document.getElementById('main')
let generation = 0

async function route() {
  const name = (location.hash.replace(/^#\/?/, '').split('?')[0] || 'documents')
  const page = PAGES[name] ? name : 'documents'
  for (const a of document.querySelectorAll('.nav a')) {
    if (a.dataset.route === page) a.setAttribute('aria-current', 'page')
    else a.removeAttribute('aria-current')
  }
  document.title = PAGES[page].title + ' · Folio dashboard'
  const mine = ++generation
  const container = h('div', { class: 'page', dataset: { page } })
  main.replaceChildren(container)
  main.setAttribute('aria-busy', 'true')
  try {
    await PAGES[page].render(container)
  } catch (e) {
    if (mine === generation) container.append(errorCard(e))
  } finally {
    if (mine === generation) main.setAttribute('aria-busy', 'false')
  }
}

async function start() {
  try {
    const s = await loadSession()
    document.getElementById('account-user').textContent = s.username
  } catch (e) {
    main.replaceChildren(errorCard(e))
    return
  }
  document.getElementById('sign-out').addEventListener('click', async () => {
    await signOut()
    // The next request gets one 401, so the browser forgets its cached credentials and asks again.
    location.href = '/dashboard/'
  })
  for (const a of document.querySelectorAll('.nav a')) {
    a.addEventListener('click', () => setTimeout(() => main.focus({ preventScroll: true }), 0))
  }
  window.addEventListener('hashchange', route)
  await route()
}

start()
