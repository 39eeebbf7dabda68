package org.libzerobus;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks an API that may change or go in any release, without notice: it binds a part of the library
 * that is itself experimental (persistent streams, behind zerobus.h's ZB_EXPERIMENTAL_PERSISTENT),
 * because the service marks the RPCs beneath it as in development. Kept in class files so that
 * build tools can find and ban its uses.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target({ElementType.TYPE, ElementType.METHOD})
public @interface Experimental {}
