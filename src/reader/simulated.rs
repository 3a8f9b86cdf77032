//! The simulated reader: taps arrive through the admin API (`lawang tap`), for
//! commissioning, training and demos. It has no device, so it is always online.
