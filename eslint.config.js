import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['dist/**', 'libs/*/dist/**', 'node_modules/**', 'coverage/**', '**/*.js', '!eslint.config.js'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { disallowTypeAnnotations: false, fixStyle: 'inline-type-imports' },
      ],
      'no-console': 'off',
    },
  },
  {
    // Plain Node.js scripts (benchmarks, tooling).
    files: ['**/*.mjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
        performance: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
      },
    },
  },
  {
    // Nest resolves constructor dependencies from emitted decorator metadata: a class imported
    // with `import type` would be injected as Object.
    files: ['apps/**/*.ts', 'libs/service-runtime/**/*.ts', 'libs/resource-guard/src/nest.ts'],
    rules: { '@typescript-eslint/consistent-type-imports': 'off' },
  },
  {
    // A file does one job and a function fits on a screen (docs/architecture.md, "Code shape").
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/testing/**'],
    rules: {
      'max-lines': ['error', { max: 400 }],
      'max-lines-per-function': ['error', { max: 80 }],
    },
  },
  {
    // Apps never import apps; libs never import apps (ARCHITECTURE.md).
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/apps/**'], message: 'libs never import apps' }] },
      ],
    },
  },
  {
    // Published on its own as @authz/resource-guard (its package.json): it imports its dependencies
    // and its own files, never another lib of this repository. (\\# : a leading # starts a
    // comment in these gitignore-style patterns.)
    files: ['libs/resource-guard/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['\\#lib/*', '../../*', '**/apps/**', '**/libs/**'],
              message: 'libs/resource-guard is installed on its own: no other lib of the monorepo',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/domain-*/**/*.ts', 'libs/oauth-*/**/*.ts', 'libs/decider/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@nestjs/*', 'typeorm', 'pg', '**/apps/**'],
              message: 'domain libs are plain TypeScript',
            },
          ],
        },
      ],
    },
  },
);
