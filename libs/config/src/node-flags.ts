/**
 * Flags of every server process (`authz start` passes them to the services it spawns; the
 * container image's ENTRYPOINT carries the same, checked by scripts/check-deploy.mjs).
 * --heap-growing-percent=50: the old generation may grow by half of what survived the last full
 * collection before the next one, instead of V8's adaptive factor (up to 4× under a high allocation
 * rate). The live set of a service is a few tens of MB; with V8's default a busy service held well
 * over 200 MB RSS of garbage, with this one it stays under 160 MB, and on this project's benchmark
 * it was no slower (docs/performance.md).
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--heap-growing-percent=50'];
