package io.flotilla;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every Flotilla test class carries this: each test and lifecycle method gets a bounded time, run
 * on a separate thread so that a test stuck in a blocking call still fails instead of blocking the
 * build, and a {@link HangGuard} that dumps threads and kills worker processes when that time runs
 * out.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Inherited
@Timeout(value = 90, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
@ExtendWith(HangGuard.class)
@interface FlotillaTest {}
