export const SERVICE_RPC = Symbol('SERVICE_RPC');
export const SERVICES_PROXY = 'SERVICES_PROXY';
