// The one place TensorFlow.js core is imported, with the always-present cpu backend. Every other engine module
// takes `tf` from here (index.ts re-exports it for the rest of LLM Lab), so there is exactly one engine and one
// kernel registry whichever backend runs.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

export { tf };
