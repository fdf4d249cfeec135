import type { BrandConfig, GatewayConfig, NatsConfig } from '#lib/config';
import { EDGE_CONFIG } from '#lib/http-edge';

/** Injection tokens of the gateway. */
export const GATEWAY_CONFIG = EDGE_CONFIG;
export type GatewaySettings = GatewayConfig & NatsConfig & BrandConfig;
