/**
 * The topic → payload map lives in core/contracts/topics.ts so the fleet controller
 * (fleet/) can use it without importing mqtt/; this module is the path issue #6 names.
 */
export * from '../core/contracts/topics.js';
