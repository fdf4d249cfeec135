import type { GatewayConfig, NatsConfig } from '#lib/config';

/** Injection tokens of the gateway. */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
export const SERVICES_PROXY = 'SERVICES_PROXY';
export type GatewaySettings = GatewayConfig & NatsConfig;
