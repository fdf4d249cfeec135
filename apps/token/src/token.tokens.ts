export const GRANT_REGISTRY = Symbol('GRANT_REGISTRY');
/** Every grant handler is provided under this token (multi-provider, STYLE.md habit 6). */
export const GRANT_HANDLERS = Symbol('GRANT_HANDLERS');
export const SERVICE_RPC = Symbol('SERVICE_RPC');
export const SERVICES_PROXY = 'SERVICES_PROXY';
/** The token service's ClientDirectory (libs/domain-client): client authentication without the registry. */
export const CLIENT_DIRECTORY = Symbol('CLIENT_DIRECTORY');
/** Verifies access tokens for RFC 7009 revocation (libs/signing-keys KeyringVerifier). */
export const KEYRING_VERIFIER = Symbol('KEYRING_VERIFIER');
