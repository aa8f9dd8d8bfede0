#!/usr/bin/env node
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { handlePluginRequest } from '../provision/plugin-helper.js';

/**
 * Entry of jetson-agent-plugin.service (root oneshot, started by jetson-agent-plugin.path).
 * Exit 0: no request, or the request succeeded; 1: the request failed (result.json says
 * why) so `systemctl status jetson-agent-plugin` shows it.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const result = await handlePluginRequest({
  stateDir: process.env.JETSON_AGENT_STATE_DIR ?? '/var/lib/jetson-agent',
  workDir: process.env.RUNTIME_DIRECTORY?.split(':')[0] ?? '/run/jetson-agent-plugin',
  agentMain: path.join(here, '..', 'main.js'),
});
if (result === undefined) process.stdout.write('jetson-agent-plugin-helper: no request\n');
else process.stdout.write(`jetson-agent-plugin-helper: ${result.op ?? '?'} ${result.id ?? '?'}: ${result.ok ? 'ok' : `failed: ${result.error?.message ?? ''}`}\n`);
process.exitCode = result === undefined || result.ok ? 0 : 1;
