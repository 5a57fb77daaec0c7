/** The privacy policy the sign-up form accepts: its public page and its version (the date it was last updated). */
export const PRIVACY_POLICY_URL = '/privacy';
export const PRIVACY_POLICY_VERSION = '2026-06-30';
