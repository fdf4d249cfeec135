export const RESOURCE_RPC = Symbol('RESOURCE_RPC');
export const NATS_PROXY = Symbol('NATS_PROXY');
