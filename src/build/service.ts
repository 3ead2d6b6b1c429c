/**
 * Document editing and the Build API: the rules. Routes hand in parsed JSON and the staged
 * multipart files; this service validates (instructions.ts, operations.ts), brings every input
 * onto local disk in a work folder of its own (stored documents streamed from the blob store,
 * with their layer's annotations written in when they are downloaded), runs the engine in a
 * build worker (runner.ts) and either returns the file or persists it through the documents
 * room's one edit transaction, in which the annotations follow their pages.
 */
import { randomUUID } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { createWriteStream } from 'node:fs'
import type { Readable } from 'node:stream'
import type { Queryable } from '../db/db.js'
import type { AnnotationService } from '../annotations/service.js'
import { parseDocumentId } from '../documents/ids.js'
import type { DocumentProperties, DocumentService, VersionSummary } from '../documents/service.js'
import { FolioError } from '../errors.js'
import type { Logger } from '../log.js'
import type { StagedFile } from '../storage/staging.js'
import type { EngineInput, EngineJob, EngineResult, ResolvedAction } from './engine.js'
import { invalid, parseInstructions, type Action, type FileRef, type Instructions, type Output } from './instructions.js'
import { parseOperations, type Operation } from './operations.js'
import type { BuildRunner } from './runner.js'
import { renderOutput, type PageRenderer } from './render-output.js'

export interface BuildLimits {
  timeoutMs: number
  maxParts: number
  maxPages: number
  maxOutputBytes: number
}

/** Multipart files by part name, staged (the route discards them after the call). */
export type BuildFiles = Map<string, StagedFile>

export interface BuiltFile {
  contentType: string
  filename: string
  size: number
  stream(): Readable
  /** Removes the work folder; call when the response is done. */
  cleanup(): Promise<void>
}

export type BuildResponse = { kind: 'file'; file: BuiltFile } | { kind: 'json'; body: unknown }

export interface BuildService {
  build(instructions: unknown, files: BuildFiles): Promise<BuildResponse>
  applyInstructions(documentId: string, layer: string, instructions: unknown, files: BuildFiles): Promise<DocumentProperties>
  applyOperations(documentId: string, operations: unknown, files: BuildFiles): Promise<DocumentProperties>
  pdfWithOperations(documentId: string, operations: unknown, files: BuildFiles): Promise<BuiltFile>
  /** pdf_with_instant_json: the layer's PDF with an uploaded Instant JSON applied; nothing stored. */
  pdfWithInstantJson(documentId: string, layer: string, files: BuildFiles): Promise<BuiltFile>
  /** copy_with_instant_json: a new document (file + every layer), the Instant JSON applied to its `layer`. */
  copyWithInstantJson(documentId: string, layer: string, files: BuildFiles): Promise<{ documentId: string; createdAt: string; errors: unknown[]; password_protected: boolean; sourcePdfSha256: string; title: string }>
  versions(documentId: string): Promise<VersionSummary[]>
  restoreVersion(documentId: string, version: number): Promise<DocumentProperties>
}

const SELF = '#self'

export function createBuildService(deps: {
  documents: DocumentService
  annotations: AnnotationService
  runner: BuildRunner
  renderer: PageRenderer
  workRoot: string
  limits: BuildLimits
  log: Logger
}): BuildService {
  const { documents, annotations, runner, limits } = deps
  // Work folders of builds a crash interrupted (the stager clears its `.part` files the same way).
  void readdir(deps.workRoot).then((names) => Promise.all(names.filter((n) => n.startsWith('build-')).map((n) => rm(join(deps.workRoot, n), { recursive: true, force: true })))).catch(() => {})

  async function workdir(): Promise<{ dir: string; cleanup(): Promise<void> }> {
    const dir = join(deps.workRoot, `build-${randomUUID()}`)
    await mkdir(dir, { recursive: true, mode: 0o700 })
    return { dir, cleanup: () => rm(dir, { recursive: true, force: true }).catch(() => {}) }
  }

  async function toFile(dir: string, name: string, stream: Readable | Promise<Readable>): Promise<string> {
    const path = join(dir, `${name}.pdf`)
    await pipeline(await stream, createWriteStream(path, { mode: 0o600 }))
    return path
  }

  /** Files by URL are fetched first (SSRF guard, ALLOW_REMOTE_DOCUMENTS), kept in `files` under `url:<url>`. */
  async function fetchUrls(ins: Instructions, files: BuildFiles): Promise<void> {
    const refs: FileRef[] = []
    const fromActions = (as: Action[]) => {
      for (const a of as) {
        if (a.type === 'applyInstantJson') refs.push(a.file)
        if (a.type === 'watermark' && a.image) refs.push(a.image)
      }
    }
    for (const p of ins.parts) {
      if (p.kind === 'file') refs.push(p.file)
      fromActions(p.actions)
    }
    fromActions(ins.actions)
    for (const ref of refs) {
      if (ref.kind !== 'url' || files.has(`url:${ref.url}`)) continue
      files.set(`url:${ref.url}`, await documents.stageFromUrl(ref.url, ref.sha256))
    }
  }

  function fileOf(files: BuildFiles, ref: FileRef, field: string): string {
    if (ref.kind === 'url') {
      const fetched = files.get(`url:${ref.url}`)
      if (!fetched) throw new FolioError('internal_error')
      return fetched.path
    }
    const f = files.get(ref.name)
    if (!f) throw invalid(field, `no multipart part named "${ref.name}" was sent`, 'missing_part')
    return f.path
  }

  function resolveActions(actions: Action[], files: BuildFiles, field: string): ResolvedAction[] {
    return actions.map((a, i) => {
      const f = `${field}[${i}]`
      if (a.type === 'applyInstantJson') return { type: 'applyInstantJson', path: fileOf(files, a.file, `${f}.file`), field: `${f}.file` }
      if (a.type === 'watermark') {
        const { image, ...rest } = a
        return { ...rest, imagePath: image ? fileOf(files, image, `${f}.image`) : undefined, field: f }
      }
      return a
    })
  }

  interface Resolved { inputs: EngineInput[]; selfInputs: number[]; foreignInputs: number[]; selfBlob?: string }

  /** Brings every part onto disk. `self`: the document of apply_instructions (its source file; annotations follow as rows). */
  async function resolveParts(ins: Instructions, files: BuildFiles, dir: string, self?: { id: string; flatten: boolean }): Promise<Resolved> {
    const inputs: EngineInput[] = []
    const selfInputs: number[] = []
    const foreignInputs: number[] = []
    let selfBlob: string | undefined
    let selfPath: string | undefined
    for (const [i, p] of ins.parts.entries()) {
      const field = `parts[${i}]`
      const actions = resolveActions(p.actions, files, `${field}.actions`)
      if (p.kind === 'new') {
        inputs.push({ blank: { pageCount: p.pageCount, width: p.width, height: p.height }, actions, field })
        if (self) foreignInputs.push(i)
        continue
      }
      if (p.kind === 'file') {
        inputs.push({ path: fileOf(files, p.file, `${field}.file`), password: p.password, pages: p.pages, actions, field })
        if (self) foreignInputs.push(i)
        continue
      }
      if (p.id === SELF) {
        if (!self) throw invalid(`${field}.document.id`, '"#self" only exists for apply_instructions')
        if (p.actions.some((a) => a.type === 'applyInstantJson')) {
          throw new FolioError('unsupported_instruction', { field: `${field}.actions` }, { message: `${field}.actions: applyInstantJson on the document itself belongs in the top-level actions` })
        }
        if (!selfPath) {
          const src = await documents.source(self.id)
          selfBlob = src.sha256
          // With a flatten, the document's own (default layer) annotations are burnt in first.
          selfPath = self.flatten
            ? await toFile(dir, 'self', (await (await annotations.pdf(self.id, { layer: '', flatten: true, source: false })).open()).stream())
            : await toFile(dir, 'self', src.stream())
        }
        selfInputs.push(i)
        inputs.push({ path: selfPath, password: p.password, pages: p.pages, actions, field })
        continue
      }
      let id: string
      try {
        id = parseDocumentId(p.id)
      } catch {
        throw invalid(`${field}.document.id`, 'is not a document id')
      }
      const layer = p.layer === undefined ? '' : annotations.parseLayer(p.layer)
      // Downloaded with the layer's annotations written in, like GET …/pdf.
      const file = await annotations.pdf(id, { layer, flatten: false, source: false }).catch((e: unknown) => {
        if (e instanceof FolioError && e.code === 'document_not_found') throw new FolioError('document_not_found', { field: `${field}.document.id` }, { message: `${field}.document.id: no such document` })
        throw e
      })
      inputs.push({ path: await toFile(dir, `part-${i}`, (await file.open()).stream()), password: p.password, pages: p.pages, actions, field })
      if (self) foreignInputs.push(i)
    }
    return { inputs, selfInputs, foreignInputs, selfBlob }
  }

  function checkSize(result: EngineResult): void {
    if (result.size > limits.maxOutputBytes) {
      throw new FolioError('build_limit_exceeded', { field: 'output', limit: limits.maxOutputBytes }, { message: `The result exceeds BUILD_MAX_OUTPUT_BYTES (${limits.maxOutputBytes} bytes)` })
    }
  }

  function fileResponse(path: string, size: number, contentType: string, filename: string, cleanup: () => Promise<void>): BuiltFile {
    return { contentType, filename, size, stream: () => createReadStream(path), cleanup }
  }

  function staged(result: EngineResult): StagedFile {
    return { path: result.path, sha256: result.sha256, size: result.size, discard: async () => {} }
  }

  async function run(job: EngineJob): Promise<EngineResult> {
    const result = await runner.run(job)
    checkSize(result)
    return result
  }

  function deadline(): number {
    return Date.now() + limits.timeoutMs
  }

  async function produce(output: Output, result: EngineResult, cleanup: () => Promise<void>): Promise<BuildResponse> {
    if (output.type === 'pdf') return { kind: 'file', file: fileResponse(result.path, result.size, 'application/pdf', 'result.pdf', cleanup) }
    try {
      const r = await renderOutput(deps.renderer, result, output)
      if (r.kind === 'json') {
        await cleanup()
        return r
      }
      return { kind: 'file', file: { ...r.file, cleanup } }
    } catch (e) {
      await cleanup()
      throw e
    }
  }

  async function loadOperations(operations: unknown, files: BuildFiles) {
    const ops = parseOperations(operations, { maxParts: limits.maxParts })
    const imports: Array<{ path: string; field: string }> = []
    const instantJson: Array<{ path: string; field: string; op: Operation }> = []
    for (const op of ops) {
      if (op.type === 'importDocument') imports.push({ path: fileOf(files, { kind: 'multipart', name: op.document }, `${op.field}.document`), field: `${op.field}.document` })
      if (op.type === 'applyInstantJson') instantJson.push({ path: fileOf(files, { kind: 'multipart', name: op.dataFilePath }, `${op.field}.dataFilePath`), field: `${op.field}.dataFilePath`, op })
    }
    return { ops, imports, instantJson }
  }

  async function readJsonPart(path: string, field: string): Promise<unknown> {
    const raw = await readFile(path)
    if (raw.length > 16 * 1024 * 1024) throw new FolioError('build_limit_exceeded', { field, limit: 16 * 1024 * 1024 }, { message: `${field}: Instant JSON over 16 MiB` })
    try {
      return JSON.parse(raw.toString('utf8'))
    } catch {
      throw invalid(field, 'is not valid JSON')
    }
  }

  /** The persisted edit: one transaction (documents/versions.ts) in which the annotations follow. */
  async function persist(documentId: string, expectedBlob: string, result: EngineResult, reason: string, opts: {
    selfInputs: Set<number>
    flattened: boolean
    instantJson: Array<{ doc: unknown; field: string }>
  }): Promise<DocumentProperties> {
    const origins = result.origins.map((o) => (o && opts.selfInputs.has(o.input) ? { page: o.page, rotate: o.rotate } : null))
    return documents.replaceFile(documentId, expectedBlob, {
      staged: staged(result),
      pageCount: result.pageCount,
      pages: result.pages.map((p, pageIndex) => ({ pageIndex, ...p })),
      pdfVersion: result.version,
      passwordProtected: false,
    }, reason, {
      snapshot: (tx: Queryable, id: string) => annotations.pageEdits.snapshot(tx, id),
      apply: async (tx: Queryable, id: string) => {
        if (opts.flattened) await annotations.pageEdits.dropLayer(tx, id, '')
        await annotations.pageEdits.follow(tx, id, origins)
        await annotations.pageEdits.imported(tx, id, result.imported)
        for (const j of opts.instantJson) await annotations.pageEdits.instantJson(tx, id, j.doc, result.pageCount, j.field)
      },
    })
  }

  return {
    async build(raw, files) {
      const ins = parseInstructions(raw, limits)
      await fetchUrls(ins, files)
      const { dir, cleanup } = await workdir()
      try {
        const { inputs } = await resolveParts(ins, files, dir)
        const result = await run({
          kind: 'build', workdir: dir, deadline: deadline(), maxPages: limits.maxPages, inputs,
          actions: resolveActions(ins.actions, files, 'actions'), pdf: ins.output.type === 'pdf' ? ins.output : undefined,
        })
        return await produce(ins.output, result, cleanup)
      } catch (e) {
        await cleanup()
        throw e
      }
    },

    async applyInstructions(documentId, layer, raw, files) {
      const ins = parseInstructions(raw, limits)
      if (ins.output.type !== 'pdf') throw invalid('output.type', 'must be "pdf" when the result replaces the document')
      if (ins.output.userPassword !== undefined || ins.output.ownerPassword !== undefined) {
        throw new FolioError('unsupported_instruction', { field: 'output.user_password' }, { message: 'output: an encrypted result cannot replace a document (its pages could not be read); use /api/build' })
      }
      if (layer !== '') annotations.parseLayer(layer)
      await annotations.assertDocument(documentId)
      await fetchUrls(ins, files)
      const flatten = [...ins.actions, ...ins.parts.flatMap((p) => p.actions)].some((a) => a.type === 'flatten')
      // Top-level Instant JSON goes into Folio's annotations (the truth), not into the file.
      const instantJson = await Promise.all(ins.actions.filter((a) => a.type === 'applyInstantJson').map(async (a, i) => {
        const field = `actions[${ins.actions.indexOf(a)}].file`
        void i
        return { doc: await readJsonPart(fileOf(files, (a as { file: FileRef }).file, field), field), field }
      }))
      const engineActions = ins.actions.filter((a) => a.type !== 'applyInstantJson' && a.type !== 'flatten')
      const { dir, cleanup } = await workdir()
      try {
        const r = await resolveParts(ins, files, dir, { id: documentId, flatten })
        if (r.selfInputs.length === 0) throw invalid('parts', 'apply_instructions needs a {"document": {"id": "#self"}} part')
        const result = await run({
          kind: 'build', workdir: dir, deadline: deadline(), maxPages: limits.maxPages, inputs: r.inputs,
          actions: resolveActions(engineActions, files, 'actions'), pdf: ins.output, importFrom: r.foreignInputs,
        })
        return await persist(documentId, r.selfBlob!, result, 'apply_instructions', { selfInputs: new Set(r.selfInputs), flattened: flatten, instantJson })
      } finally {
        await cleanup()
      }
    },

    async applyOperations(documentId, raw, files) {
      const { ops, imports, instantJson } = await loadOperations(raw, files)
      const flatten = ops.some((o) => o.type === 'flattenAnnotations')
      const docs = await Promise.all(instantJson.map(async (j) => ({ doc: await readJsonPart(j.path, j.field), field: j.field })))
      const { dir, cleanup } = await workdir()
      try {
        const src = await documents.source(documentId)
        const selfPath = flatten
          ? await toFile(dir, 'self', (await (await annotations.pdf(documentId, { layer: '', flatten: true, source: false })).open()).stream())
          : await toFile(dir, 'self', src.stream())
        const result = await run({
          kind: 'operations', workdir: dir, deadline: deadline(), maxPages: limits.maxPages,
          inputs: [{ path: selfPath, field: 'document' }, ...imports],
          operations: ops.filter((o) => o.type !== 'flattenAnnotations'),
          instantJson: [],
        })
        return await persist(documentId, src.sha256, result, 'apply_operations', { selfInputs: new Set([0]), flattened: flatten, instantJson: docs })
      } finally {
        await cleanup()
      }
    },

    async pdfWithOperations(documentId, raw, files) {
      const { ops, imports, instantJson } = await loadOperations(raw, files)
      const { dir, cleanup } = await workdir()
      try {
        // A download: the document as GET …/pdf serves it (annotations written in), then edited.
        const file = await annotations.pdf(documentId, { layer: '', flatten: false, source: false })
        const selfPath = await toFile(dir, 'self', (await file.open()).stream())
        const result = await run({
          kind: 'operations', workdir: dir, deadline: deadline(), maxPages: limits.maxPages,
          inputs: [{ path: selfPath, field: 'document' }, ...imports],
          operations: ops,
          instantJson: instantJson.map(({ path, field }) => ({ path, field })),
        })
        return fileResponse(result.path, result.size, 'application/pdf', `${file.title || documentId}.pdf`, cleanup)
      } catch (e) {
        await cleanup()
        throw e
      }
    },

    async pdfWithInstantJson(documentId, layer, files) {
      const ij = files.get('instant.json')
      if (!ij) throw invalid('instant.json', 'the multipart body has no "instant.json" part', 'missing_part')
      const name = annotations.parseLayer(layer)
      const { dir, cleanup } = await workdir()
      try {
        const file = await annotations.pdf(documentId, { layer: name, flatten: false, source: false })
        const path = await toFile(dir, 'self', (await file.open()).stream())
        const result = await run({
          kind: 'build', workdir: dir, deadline: deadline(), maxPages: limits.maxPages,
          inputs: [{ path, actions: [], field: 'document' }],
          actions: [{ type: 'applyInstantJson', path: ij.path, field: 'instant.json' }],
        })
        return fileResponse(result.path, result.size, 'application/pdf', `${file.title || documentId}.pdf`, cleanup)
      } catch (e) {
        await cleanup()
        throw e
      }
    },

    async copyWithInstantJson(documentId, layer, files) {
      const name = annotations.parseLayer(layer)
      const ij = files.get('instant.json')
      const doc = ij ? await readJsonPart(ij.path, 'instant.json') : undefined
      const copy = await annotations.copyDocument(documentId)
      try {
        if (doc !== undefined) await annotations.applyInstantJson(copy.document_id, name, { userId: null, via: 'api' }, doc)
      } catch (e) {
        // The copy and the import are two writes: a refused Instant JSON leaves no copy behind.
        await documents.remove(copy.document_id).catch(() => {})
        throw e
      }
      const p = await documents.properties(copy.document_id)
      return { documentId: p.document_id, createdAt: p.createdAt, errors: [], password_protected: p.passwordProtected, sourcePdfSha256: p.sourcePdfSha256, title: p.title }
    },

    versions: (documentId) => documents.versions(documentId),

    restoreVersion(documentId, version) {
      return documents.restoreVersion(documentId, version, {
        snapshot: (tx, id) => annotations.pageEdits.snapshot(tx, id),
        restore: (tx, id, snapshot) => annotations.pageEdits.restore(tx, id, snapshot),
      })
    },
  }
}
