/**
 * Where each workspace's upstream is: the {@link dev.ideproxy.target.TargetResolver} extension
 * point, the {@link dev.ideproxy.target.Target} value, and resolvers from a static map and a URI
 * template. API.
 */
package dev.ideproxy.target;
