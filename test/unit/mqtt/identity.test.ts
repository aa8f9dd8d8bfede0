import t from 'tap';
import { readFileSync } from 'node:fs';
import { certificateCommonName, checkMqttIdentity } from '../../../agent/src/mqtt/identity.js';
import { makeClientCert, makeTestCa } from '../../helpers/mosquitto.js';

// Real certificates made by openssl, like the provisioning script's CSR (CN=<device id>) signed by a CA.
const ca = makeTestCa(t.testdir());
const jet = readFileSync(makeClientCert(ca, 'jet-01').cert);
const other = readFileSync(makeClientCert(ca, 'jet-02').cert);

t.test('the user name must be the device id (or empty: it then defaults to it)', async (t) => {
  t.doesNotThrow(() => checkMqttIdentity({ deviceId: 'jet-01', username: 'jet-01' }));
  t.doesNotThrow(() => checkMqttIdentity({ deviceId: 'jet-01', username: '' }));
  t.throws(() => checkMqttIdentity({ deviceId: 'jet-01', username: 'shared-user' }), {
    code: 'MQTT_IDENTITY_MISMATCH',
    message: /mqtt\.username "shared-user" is not the device id "jet-01"/,
    hint: /Broker setup/,
  });
});

t.test('a client certificate must carry CN = device id', async (t) => {
  t.equal(certificateCommonName(jet), 'jet-01');
  t.doesNotThrow(() => checkMqttIdentity({ deviceId: 'jet-01', username: '', certPem: jet }));
  t.throws(() => checkMqttIdentity({ deviceId: 'jet-01', username: '', certPem: other }), { code: 'MQTT_IDENTITY_MISMATCH', message: /CN is "jet-02", not the device id "jet-01"/ });
  t.throws(() => checkMqttIdentity({ deviceId: 'jet-01', username: '', certPem: Buffer.from('not a certificate') }), { code: 'CONFIG_INVALID', message: /mqtt\.certFile is not a PEM certificate/ });
});
