/**
 * A breakdown table's column headers (signature page, search), for screen readers only: a row
 * reads "2.0.0, 4 Crashes, 40.0% Share" rather than three bare numbers. The h3 above the
 * table names it for the eye.
 */
export function FacetHeader(props: { columns: string[] }) {
  return (
    <thead>
      <tr>
        {props.columns.map((c, i) => (
          <th scope="col" class={i > 0 ? 'num' : undefined}>
            <span class="vh">{c}</span>
          </th>
        ))}
      </tr>
    </thead>
  );
}
