// The one place TensorFlow.js core is imported, with the always-present cpu backend. Every other engine module
// takes `tf` from here (index.ts re-exports it for the rest of LLM Lab), so there is exactly one engine and one
// kernel registry whichever backend runs.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

// Production mode only silences TensorFlow.js's console notes, e.g. the banner urging tfjs-node on the first
// cpu op: the engine chooses backends itself and reports why (describeEngine).
tf.env().set('PROD', true);

// tfjs-core's CommonJS build registers no gradients; initEngine registers them from one bundle (gradients.ts).

export { tf };
