/**
 * Shares one computation among the concurrent callers that ask for the same key: the first
 * starts it, the others wait for its outcome (result or error); once it settles the next caller
 * starts afresh. Twenty identical renders arriving together cost one worker job, not twenty
 * (issue 18). The key must say everything the outcome depends on (the render cache key does).
 *
 * @example
 * const share = createSingleFlight();
 * const [a, b] = await Promise.all([share("k", compute), share("k", compute)]); // compute ran once
 */
export function createSingleFlight() {
  const flights = new Map<string, Promise<unknown>>();
  return function share<T>(key: string, compute: () => Promise<T>): Promise<T> {
    const flying = flights.get(key);
    if (flying) return flying as Promise<T>;
    const flight = compute().finally(() => flights.delete(key));
    flights.set(key, flight);
    return flight;
  };
}
