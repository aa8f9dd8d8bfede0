import { Type, type Static } from '@sinclair/typebox';
import { BaseSection } from './sections/base.js';
import { PluginSection } from './sections/plugin.js';
import { ConvertSection, ModelsSection } from './sections/models.js';
import { InferenceSection } from './sections/inference.js';
import { HealthSection, MqttSection, RolloutSection } from './sections/mqtt.js';

/** The one configuration schema (STYLE: config is one TypeBox schema with defaults). */
export const ConfigSchema = Type.Object(
  {
    ...BaseSection,
    plugin: PluginSection,
    models: ModelsSection,
    convert: ConvertSection,
    inference: InferenceSection,
    mqtt: MqttSection,
    health: HealthSection,
    rollout: RolloutSection,
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
