export const APPS = ['client-registry', 'consent', 'token', 'introspection', 'gateway', 'admin'] as const;
/** The example apps of the choreography: started by `npm start` once the clients are seeded. */
export const EXAMPLE_APPS = ['resource-server', 'example-client'] as const;
export type AppName = (typeof APPS)[number] | (typeof EXAMPLE_APPS)[number];
