package zerobus

// #include "zbgo.h"
import "C"

// ConfigProperty describes one configuration key of the loaded library, as
// docs/CONFIGURATION.md lists it.
type ConfigProperty struct {
	Name        string // e.g. "recovery.retries"
	Type        string // "bool", "int" or "string"
	Default     string // as the library prints it
	Range       string // the accepted values, e.g. "0 .. 2147483647"
	Scope       string // "sdk" (read by NewSDK) or "stream" (by the stream constructors)
	Description string // one paragraph
}

// ConfigProperties returns every configuration key the loaded library knows, in its stable
// order (zb_config_describe). WithConfig takes any of them; the typed options cover most.
// Safe for concurrent use.
func ConfigProperties() []ConfigProperty {
	var properties []ConfigProperty
	for index := 0; ; index++ {
		property := C.zb_config_property{struct_size: C.uint32_t(C.sizeof_zb_config_property)}
		if C.zb_config_describe(C.size_t(index), &property, nil) != C.ZB_OK {
			return properties
		}
		properties = append(properties, ConfigProperty{
			Name:        C.GoString(property.name),
			Type:        C.GoString(property._type),
			Default:     C.GoString(property.default_value),
			Range:       C.GoString(property._range),
			Scope:       C.GoString(property.scope),
			Description: C.GoString(property.description),
		})
	}
}
