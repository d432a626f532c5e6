// Lint for LLM Lab: TypeScript rules plus the walls between the layers (see ../shared/STYLE.md).
// core, protocol, worker and webview never import `vscode`; webview never imports src/core;
// only src/core/engine imports TensorFlow.js.
import tseslint from 'typescript-eslint';

const noVscode = { name: 'vscode', message: 'Only src/extension may import vscode.' };
const tfPatterns = {
  group: ['@tensorflow/*'],
  message: 'Only src/core/engine imports TensorFlow.js; use the engine module.',
};

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'build/**', '.tools/**', 'media/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Named exports only.' }],
    },
  },
  {
    files: ['src/core/**/*.ts', 'src/protocol/**/*.ts', 'src/worker/**/*.ts', 'src/cli/**/*.ts', 'bench/**/*.ts'],
    ignores: ['src/core/engine/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [noVscode], patterns: [tfPatterns] }] },
  },
  {
    files: ['src/core/engine/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [noVscode] }] },
  },
  {
    files: ['src/extension/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [tfPatterns] }] },
  },
  {
    files: ['webview/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [noVscode],
          patterns: [
            { group: ['**/src/core/**', '**/core/**'], message: 'The panel talks to the host through src/protocol only.' },
            tfPatterns,
          ],
        },
      ],
    },
  },
);
