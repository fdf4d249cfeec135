export * from './sealed-key.js';
export * from './keyring.js';
export * from './key-material.js';
export * from './rotation.js';
export * from './access-token.js';
export * from './signer.js';
export * from './jwks.js';
export * from './keyring-reader.js';
