import t from 'tap';
import { redactUrl } from '../../../agent/src/mqtt/client.js';
import { resolveConfig, redactConfig, ConfigInvalidError } from '../../../agent/src/core/config/resolve.js';
import type { AgentError } from '../../../agent/src/core/errors.js';

t.test('defaults apply with no file, no env', async (t) => {
  const { config, explicit } = resolveConfig({ env: {} });
  t.equal(config.inference.port, 8080);
  t.equal(config.inference.host, '127.0.0.1');
  t.equal(config.mqtt.topicPrefix, 'jetson/v1');
  t.equal(config.stateDir, '/var/lib/jetson-agent');
  t.equal(explicit.size, 0);
  t.ok(Object.isFrozen(config.inference), 'config is frozen');
});

t.test('file, env and flags layer in that order', async (t) => {
  const { config, explicit } = resolveConfig({
    fileText: 'inference:\n  port: 9000\n  host: 0.0.0.0\nmqtt:\n  url: mqtt://broker:1883\n',
    env: { JETSON_AGENT_INFERENCE_PORT: '9100', JETSON_AGENT_GROUPS: 'lab,yard', HOME: '/x' },
    overrides: { 'inference.port': 9200 },
  });
  t.equal(config.inference.port, 9200, 'flag wins over env and file');
  t.equal(config.inference.host, '0.0.0.0', 'file value kept');
  t.same(config.groups, ['lab', 'yard'], 'comma list from env');
  t.equal(config.mqtt.url, 'mqtt://broker:1883');
  t.ok(explicit.has('inference.port') && explicit.has('mqtt.url') && explicit.has('groups'));
});

t.test('three mistakes are reported together, with path, expected type and a suggestion', async (t) => {
  const err = t.throws(() =>
    resolveConfig({
      fileText: 'inference:\n  prot: 80\n  workers: many\nmqtt:\n  protocolVersion: 6\n',
      env: {},
    }),
  ) as unknown;
  t.ok(err instanceof ConfigInvalidError);
  const issues = (err as ConfigInvalidError).issues;
  t.equal(issues.length, 3);
  t.match(issues.find((i) => i.path === 'inference.prot')?.message, /did you mean "inference\.port"/);
  t.match(issues.find((i) => i.path === 'inference.workers')?.message, /expected integer ≥ 1, got "many"/);
  t.match(issues.find((i) => i.path === 'mqtt.protocolVersion')?.message, /expected 4 \| 5, got 6/);
  t.equal((err as AgentError).code, 'CONFIG_INVALID');
  t.equal((err as AgentError).exitCode, 2);
});

t.test('bad env values and unknown env variables are reported', async (t) => {
  const err = t.throws(() => resolveConfig({ env: { JETSON_AGENT_INFERENCE_PORT: 'x', JETSON_AGENT_INFERENCE_PROT: '1' } })) as ConfigInvalidError;
  t.equal(err.issues.length, 2);
  t.match(err.issues[0]?.message, /expected integer/);
  t.equal(err.issues[0]?.source, 'env');
  t.match(err.issues[1]?.message, /did you mean JETSON_AGENT_INFERENCE_PORT/);
});

t.test('invalid YAML gives line and column', async (t) => {
  const err = t.throws(() => resolveConfig({ fileText: 'inference:\n  port: [1,\n', fileName: 'c.yaml' })) as AgentError;
  t.equal(err.code, 'CONFIG_UNREADABLE');
  t.match(err.message, /c\.yaml is not valid YAML at line \d+, column \d+/);
});

t.test('a top-level scalar is rejected', async (t) => {
  const err = t.throws(() => resolveConfig({ fileText: 'just a string\n' })) as AgentError;
  t.equal(err.code, 'CONFIG_UNREADABLE');
});

t.test('secrets are redacted by redactConfig, empty ones stay empty', async (t) => {
  const { config } = resolveConfig({ env: { JETSON_AGENT_MQTT_PASSWORD: 'hunter2' } });
  const shown = redactConfig(config) as { mqtt: { password: string }; inference: { token: string } };
  t.equal(shown.mqtt.password, '***');
  t.equal(shown.inference.token, '');
  t.equal(config.mqtt.password, 'hunter2', 'the real config keeps the value');
});

t.test('a password inside mqtt.url is redacted as the logs redact it (config print, get-config)', async (t) => {
  const url = 'mqtts://jet-01:p@ss:w0rd@broker-a:8883,mqtt://jet-01:other@broker-b:1883/x,mqtt://plain:1883';
  const { config } = resolveConfig({ env: { JETSON_AGENT_MQTT_URL: url } });
  const shown = redactConfig(config) as { mqtt: { url: string } };
  t.equal(shown.mqtt.url, 'mqtts://***@broker-a:8883,mqtt://***@broker-b:1883/x,mqtt://plain:1883');
  t.notMatch(JSON.stringify(shown), /w0rd|other|p@ss/);
  t.equal(redactUrl(url), shown.mqtt.url, 'the same function the MQTT client logs with');
  t.equal(config.mqtt.url, url, 'the real config keeps the value');
});
