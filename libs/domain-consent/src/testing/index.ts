export { describeLoginAttemptStoreContract } from './login-attempt-store.contract.js';
