/**
 * The built-in {@code http} item type, by job. {@link HttpCallFunction} is the face: the
 * item's input and output, and the loop of one item (send, follow a redirect, retry, answer).
 * {@link RequestChecks} holds what a request must be;
 * {@link RetryPolicy} which failures are retried and when;
 * {@link Redirects} which redirects are followed and what a hop keeps;
 * {@link GuardedTransport} how one attempt is sent: vetted and pinned DNS, a bounded
 * name lookup, the per-attempt timer, bounded reads; {@link BodyText} how a body
 * becomes text or base64. {@link SsrfGuard} is the policy of which addresses an item
 * may reach, with {@link AddressClass} (why an address is not public) and
 * {@link Cidr} (address ranges) beside it. {@link HttpSettings}
 * are the operator's settings; nothing here imports the handler back.
 */
package dev.fanout.work.http;
