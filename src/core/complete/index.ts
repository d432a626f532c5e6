// Inline completion: prompt building around the cursor, stop rules, the duplicate-suffix rule, and the
// completion itself.
export type { CompletionContext, CompletionPrompt, ContextLimits, ContextTokenizer } from './context';
export { buildCompletionPrompt, headTokens, promptBudget, tailTokens } from './context';
export type { CompletionMode, StopCut, StopReason, StopRules } from './stops';
export { cursorIndent, cutAtStop } from './stops';
export { fitToSuffix, repeatsSuffix, trimDuplicatedSuffix } from './suffix';
export type { CompletionOptions, CompletionRequest, CompletionResult } from './complete';
export { completeText } from './complete';
