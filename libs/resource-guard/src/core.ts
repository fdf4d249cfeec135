// The package's main entry: the token checks without any framework (plain Node.js, or any HTTP
// stack). The NestJS integration is the `./nest` entry (nest.ts), so that `@nestjs/*` stays an
// optional peer dependency.
export * from './bearer-error.js';
export * from './extract-token.js';
export * from './scope.js';
export * from './options.js';
export * from './jwks-cache.js';
export * from './access-token-verifier.js';
