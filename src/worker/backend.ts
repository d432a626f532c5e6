// Which compute backend the worker starts: the host passes the llmLab.backend setting in LLM_LAB_BACKEND.
import type { BackendChoice } from '../core/engine';
import { BACKEND_CHOICES } from '../core/engine';
import { LlmLabError } from '../core/errors';

export function configuredBackend(): BackendChoice {
  const asked = process.env.LLM_LAB_BACKEND ?? 'auto';
  if (!(BACKEND_CHOICES as readonly string[]).includes(asked)) {
    throw new LlmLabError('bad-argument', `Unknown backend "${asked}" in llmLab.backend; use one of ${BACKEND_CHOICES.join(', ')}.`);
  }
  return asked as BackendChoice;
}
