// Runs TypeScript entry points (the benchmark) with the same ts-node loader tap uses for tests.
import '@tapjs/typescript/import';
