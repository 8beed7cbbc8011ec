"""frontend/js/lib/forms.js: an API error lands next to the field it is about, in the page's language."""

PLACE_ERRORS = """async () => {
  const { showErrors } = await import('/js/lib/forms.js');
  document.querySelector('main').insertAdjacentHTML('beforeend', `
    <form data-form="probe">
      <label for="probe-device">Kit</label><select id="probe-device" name="device"><option value="1">1</option></select>
      <p data-error-for="device" hidden></p>
      <label for="probe-operator">Petugas</label><select id="probe-operator" name="operator_id"><option value="2">2</option></select>
      <p data-error-for="operator_id" hidden></p>
      <div data-form-status></div>
    </form>`);
  const form = document.querySelector('[data-form=probe]');
  showErrors(form, { message: 'Periksa isian.', fields: { device_id: 'Kit tidak dikenal.', operator_id: 'Petugas tidak dikenal.', area_id: 'Wilayah?' } });
  return {
    device: [form.querySelector('[data-error-for=device]').textContent, form.elements.device.getAttribute('aria-invalid')],
    operator: [form.querySelector('[data-error-for=operator_id]').textContent, form.elements.operator_id.getAttribute('aria-invalid')],
    status: form.querySelector('[data-form-status]').innerText,
  };
}"""


def test_an_error_on_a_reference_lands_at_the_picker_named_by_the_thing(page) -> None:
    # The API names references `device_id` (docs/api.md); the kit picker is named "device". The
    # error is shown at the picker, not only in the form's box; one for a field the form does not
    # have stays in the box.
    page.goto("/#/progress")
    page.wait_for_selector("main h1")
    placed = page.evaluate(PLACE_ERRORS)
    assert placed["device"] == ["Kit tidak dikenal.", "true"]
    assert placed["operator"] == ["Petugas tidak dikenal.", "true"]
    assert "Wilayah?" in placed["status"] and "Kit tidak dikenal." not in placed["status"]
