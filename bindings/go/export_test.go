package zerobus

// LiveCallbackHandles is the number of Go callbacks the library holds, for the leak tests.
func LiveCallbackHandles() int64 { return liveHandles.Load() }
