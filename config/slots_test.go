package config

import (
	"reflect"
	"testing"

	"github.com/sdbuild/sdbuild/slots"
)

func TestSlotOptions(t *testing.T) {
	c := Defaults()
	c.StateDir = "/var/lib/sdbuild"
	want := slots.Options{Dir: "/var/lib/sdbuild/userpool", StartID: 2013265920, StartGID: 2013265920, IDsPerBuild: 65536, Slots: 128}
	if got := c.SlotOptions(); !reflect.DeepEqual(got, want) {
		t.Errorf("SlotOptions() = %+v, want %+v", got, want)
	}
}
