import { PageTitle } from "../../components/PageTitle";

export function NotFound() {
  return (
    <div class="card">
      <PageTitle title="Not found" />
      <p>There is nothing at this address. <a href="#/">← All categories</a></p>
    </div>
  );
}
