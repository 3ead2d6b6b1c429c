/**
 * deploy/kubernetes, rendered by `kubectl kustomize` and checked for the properties an operator
 * relies on: probes on /healthcheck, a stop sequence that fits Folio's drain, a non-root pod with
 * a read-only root, requests and limits, a PodDisruptionBudget and a HorizontalPodAutoscaler that
 * agree with the Deployment, secrets only by reference, and an Ingress that exposes /i,
 * /documents and /viewer and nothing else (the seed's security advice).
 *
 * The renderer is kubectl's built-in kustomize (Debian's kubernetes-client or any kubectl). Where
 * no kubectl is installed the test is skipped, except in CI (CI=true), where it fails: .ci/run
 * installs one.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parseAllDocuments } from 'yaml'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0
const skip = !hasKubectl && !process.env.CI && 'kubectl is not installed (Debian: kubernetes-client)'

type Obj = Record<string, any>

function render(): Obj[] {
  const r = spawnSync('kubectl', ['kustomize', join(root, 'deploy/kubernetes')], { encoding: 'utf8' })
  assert.equal(r.status, 0, `kubectl kustomize failed: ${r.stderr}`)
  return parseAllDocuments(r.stdout).map((d) => {
    assert.equal(d.errors.length, 0, String(d.errors[0]))
    return d.toJS() as Obj
  })
}

/** Kubernetes quantities as numbers: CPU in cores, memory in bytes. */
function quantity(q: string | number): number {
  const m = /^([0-9.]+)(m|Ki|Mi|Gi|Ti|k|M|G)?$/.exec(String(q))
  assert.ok(m, `quantity ${q}`)
  const units: Record<string, number> = { m: 1e-3, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9 }
  return Number(m[1]) * (m[2] ? units[m[2]]! : 1)
}

/** How long Folio drains in-flight requests after SIGTERM, read from the source that decides it. */
function drainSeconds(): number {
  const files: string[] = []
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (name.endsWith('.ts')) files.push(p)
    }
  }
  walk(join(root, 'src'))
  for (const f of files) {
    const m = /SHUTDOWN_GRACE_MS\s*=\s*([0-9_]+)/.exec(readFileSync(f, 'utf8'))
    if (m) return Number(m[1]!.replace(/_/g, '')) / 1000
  }
  assert.fail('SHUTDOWN_GRACE_MS not found in src/: keep terminationGracePeriodSeconds in step with the drain')
}

const SECRET_NAME = /TOKEN|SECRET|PASSWORD|PRIVATE|ACCESS_KEY|DATABASE_URL|CONNECTION_STRING|ACCOUNT_KEY|JWT_PUBLIC_KEY|USERNAME/

describe('Kubernetes manifests (deploy/kubernetes, kustomize)', { skip }, () => {
  const objects = hasKubectl ? render() : []
  const one = (kind: string): Obj => {
    const found = objects.filter((o) => o.kind === kind)
    assert.equal(found.length, 1, `one ${kind}`)
    return found[0]!
  }

  test('the Deployment is ready and alive on /healthcheck at the port Folio listens on', () => {
    const deploy = one('Deployment')
    const config = one('ConfigMap')
    const [c] = deploy.spec.template.spec.containers
    const port = c.ports.find((p: Obj) => p.name === 'http')
    assert.equal(String(port.containerPort), config.data.PORT, 'container port = PORT')
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      assert.equal(c[probe]?.httpGet?.path, '/healthcheck', probe)
      assert.ok([port.name, port.containerPort].includes(c[probe].httpGet.port), `${probe} on the http port`)
    }
    assert.ok(c.readinessProbe.periodSeconds * c.readinessProbe.failureThreshold < c.livenessProbe.periodSeconds * c.livenessProbe.failureThreshold,
      'a pod is taken out of the Service before it is restarted')
    assert.ok(c.envFrom.some((e: Obj) => e.configMapRef?.name === config.metadata.name), 'the (hashed) config map is referenced')
  })

  test('preStop and terminationGracePeriodSeconds leave time for the whole drain', () => {
    const spec = one('Deployment').spec.template.spec
    const preStop = spec.containers[0].lifecycle?.preStop
    assert.ok(preStop, 'a preStop hook lets the endpoints update before SIGTERM')
    const wait = preStop.sleep?.seconds ?? Number(preStop.exec?.command?.[0] === 'sleep' ? preStop.exec.command[1] : NaN)
    assert.ok(wait >= 3 && wait <= 15, `preStop waits ${wait} s`)
    const drain = drainSeconds()
    assert.ok(spec.terminationGracePeriodSeconds >= wait + drain + 5,
      `terminationGracePeriodSeconds ${spec.terminationGracePeriodSeconds} < preStop ${wait} s + drain ${drain} s + 5 s`)
  })

  test('the pod runs as non-root with a read-only root; only /data and /tmp are writable', () => {
    const deploy = one('Deployment')
    const spec = deploy.spec.template.spec
    assert.equal(spec.securityContext.runAsNonRoot, true)
    assert.ok(spec.securityContext.runAsUser > 0, 'a non-zero uid')
    assert.equal(spec.securityContext.seccompProfile?.type, 'RuntimeDefault')
    assert.equal(spec.automountServiceAccountToken, false, 'no Kubernetes API token in the pod')
    const c = spec.containers[0]
    assert.equal(c.securityContext.readOnlyRootFilesystem, true)
    assert.equal(c.securityContext.allowPrivilegeEscalation, false)
    assert.deepEqual(c.securityContext.capabilities?.drop, ['ALL'])
    const mounts = Object.fromEntries(c.volumeMounts.map((m: Obj) => [m.mountPath, m.name]))
    assert.deepEqual(Object.keys(mounts).sort(), ['/data', '/tmp'])
    assert.equal(one('ConfigMap').data.DATA_DIR, '/data')
    for (const v of spec.volumes) assert.ok(v.emptyDir?.sizeLimit, `${v.name}: a bounded emptyDir`)
    assert.equal(spec.volumes.find((v: Obj) => v.name === mounts['/tmp']).emptyDir.medium, 'Memory')
  })

  test('requests and limits are set for CPU and memory, requests below limits', () => {
    const { resources } = one('Deployment').spec.template.spec.containers[0]
    for (const r of ['cpu', 'memory']) {
      assert.ok(resources.requests?.[r] && resources.limits?.[r], `${r} request and limit`)
      assert.ok(quantity(resources.requests[r]) <= quantity(resources.limits[r]), `${r} request <= limit`)
    }
  })

  test('the PodDisruptionBudget and the HorizontalPodAutoscaler agree with the Deployment', () => {
    const deploy = one('Deployment')
    const labels = deploy.spec.template.metadata.labels
    const pdb = one('PodDisruptionBudget')
    assert.equal(pdb.apiVersion, 'policy/v1')
    for (const [k, v] of Object.entries(pdb.spec.selector.matchLabels)) assert.equal(labels[k], v, `PDB selects ${k}`)
    const hpa = one('HorizontalPodAutoscaler')
    assert.equal(hpa.apiVersion, 'autoscaling/v2')
    assert.deepEqual([hpa.spec.scaleTargetRef.kind, hpa.spec.scaleTargetRef.name], ['Deployment', deploy.metadata.name])
    assert.ok(hpa.spec.minReplicas >= 2 && hpa.spec.maxReplicas >= hpa.spec.minReplicas)
    assert.ok(pdb.spec.minAvailable < hpa.spec.minReplicas, 'a drain can always evict one pod')
    assert.ok(hpa.spec.metrics.some((m: Obj) => m.resource?.name === 'cpu'), 'scales on CPU')
    assert.equal(deploy.spec.strategy.rollingUpdate.maxUnavailable, 0, 'rollouts keep every ready pod until its successor is ready')
  })

  test('secrets come only by reference: no Secret object, no secret value in the config map', () => {
    assert.equal(objects.filter((o) => o.kind === 'Secret').length, 0)
    const config = one('ConfigMap')
    for (const key of Object.keys(config.data)) assert.doesNotMatch(key, SECRET_NAME, `${key} is in the config map`)
    const env = one('Deployment').spec.template.spec.containers[0].env
    const secretVars = env.filter((e: Obj) => SECRET_NAME.test(e.name))
    assert.ok(secretVars.length >= 3)
    for (const e of secretVars) {
      assert.equal(e.value, undefined, `${e.name} has a value in the manifest`)
      assert.ok(e.valueFrom?.secretKeyRef?.name, `${e.name} comes from a Secret`)
    }
    for (const name of ['API_AUTH_TOKEN', 'SECRET_KEY_BASE', 'DATABASE_URL']) {
      assert.ok(secretVars.some((e: Obj) => e.name === name && !e.valueFrom.secretKeyRef.optional), `${name} is required`)
    }
  })

  test('every variable set is one Folio reads (src/config.ts, itself checked against docs/configuration.md)', () => {
    const source = readFileSync(join(root, 'src/config.ts'), 'utf8')
    const names = [...Object.keys(one('ConfigMap').data), ...one('Deployment').spec.template.spec.containers[0].env.map((e: Obj) => e.name)]
    for (const name of names) assert.ok(source.includes(`'${name}'`), `${name} is not read by src/config.ts`)
  })

  test('the Service reaches the pods on their http port', () => {
    const svc = one('Service')
    const labels = one('Deployment').spec.template.metadata.labels
    for (const [k, v] of Object.entries(svc.spec.selector)) assert.equal(labels[k], v)
    assert.equal(svc.spec.ports[0].targetPort, 'http')
    assert.notEqual(svc.spec.type, 'LoadBalancer', 'the API and dashboard must not get a public address')
  })

  test('the Ingress exposes exactly /i, /documents and /viewer, as Prefix paths to the Service', () => {
    const ing = one('Ingress')
    const svc = one('Service')
    const paths = ing.spec.rules.flatMap((r: Obj) => r.http.paths)
    assert.deepEqual(paths.map((p: Obj) => p.path).sort(), ['/documents', '/i', '/viewer'])
    for (const p of paths) {
      assert.equal(p.pathType, 'Prefix', `${p.path}: Prefix matches whole segments (not /images for /i)`)
      assert.equal(p.backend.service.name, svc.metadata.name)
    }
    assert.equal(ing.spec.defaultBackend, undefined, 'nothing else is routed')
    assert.ok(ing.spec.tls?.length > 0, 'HTTPS at the edge')
  })
})
