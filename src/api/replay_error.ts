/** Why a replay could not be sent (the API answers 409 with it). */
export class ReplayError extends Error {}
