export const SERVICE_RPC = Symbol('SERVICE_RPC');
export const SERVICES_PROXY = 'SERVICES_PROXY';
export const KEYRING_VERIFIER = Symbol('KEYRING_VERIFIER');
/** The introspection service's ClientDirectory (libs/domain-client): callers and tokens' clients. */
export const CLIENT_DIRECTORY = Symbol('CLIENT_DIRECTORY');
