export const SERVICE_RPC = Symbol('SERVICE_RPC');
export const SERVICES_PROXY = 'SERVICES_PROXY';
/** How consent reads clients (libs/domain-client ClientViews): the stream, never the registry's tables. */
export const CLIENT_VIEWS = Symbol('CLIENT_VIEWS');
/** The end-session endpoint's id_token_hint verifier: the signing keyring stream, read only. */
export const ID_TOKEN_HINTS = Symbol('ID_TOKEN_HINTS');
