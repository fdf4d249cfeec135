/**
 * Payloads on the wire: see messages.ts for the rules. (Kept in its own file per service area.)
 */
export {};
