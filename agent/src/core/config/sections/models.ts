import { Type } from '@sinclair/typebox';

export const ModelsSection = Type.Object(
  {
    keyringPath: Type.String({
      default: '/etc/jetson-agent/keys.yaml',
      description: 'Model key file (root-readable only) referenced by keyRef in model packages.',
    }),
    maxPackageBytes: Type.Integer({ default: 2147483648, minimum: 1024, description: 'Largest package accepted at intake.' }),
    inboxPollSec: Type.Integer({ default: 5, minimum: 1, description: 'How often the daemon looks into state/inbox/.' }),
  },
  { default: {}, additionalProperties: false },
);

export const ConvertSection = Type.Object(
  {
    tltConverter: Type.String({ default: '', description: 'tlt-converter/tao-converter path; empty = discovery in the usual install paths.' }),
    trtexec: Type.String({ default: '', description: 'trtexec path; empty = /usr/src/tensorrt/bin/trtexec or PATH.' }),
    timeoutSec: Type.Integer({ default: 3600, minimum: 10, description: 'Deadline for one engine conversion.' }),
    workspaceBytes: Type.Integer({ default: 1073741824, minimum: 1048576, description: 'Converter -w (max workspace), 1<<30 by default (docs/reference/tensorrt-conversion.md "Converter flags").' }),
  },
  { default: {}, additionalProperties: false },
);
