// The resource kinds flowlm ships, loaded on first use (a data pipeline never loads tfjs). Specs name
// them by kind; Registry.registerResource adds others.
import type { ResourceFactory } from '../core/resource.ts';

type Loader = () => Promise<ResourceFactory>;

export const BUILTIN_RESOURCES: Record<string, Loader> = {
  'nn/gpt': async () => (await import('../nn/resources/gpt-resource.ts')).gptResource,
  'nn/adamw': async () => (await import('../nn/resources/adamw-resource.ts')).adamwResource,
  'nn/trainer': async () => (await import('../nn/resources/trainer-resource.ts')).trainerResource,
  'posttrain/ppo': async () => (await import('../nn/ppo/ppo-resource.ts')).ppoResource,
};
